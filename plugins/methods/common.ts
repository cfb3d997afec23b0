/**
 * Pieces shared by the trainers: batches to tensors, gradient sums, stream bookkeeping for
 * checkpoints, and default losses when the experiment names none.
 */
import { tf, deriveSeed, type Batch, type BatchStream, type BuildContext, type ComponentConfig, type Loss, type NamedTensorMap, type SegmentationDataset, type StreamOptions, type Tensor, type Tensor3D, type Tensor4D, type Variable } from '../../src/index.js';

export const trainerBaseSchema = {
  iterations: { type: 'integer', minimum: 1, default: 20000, description: 'Number of training iterations (reference: 20000).' },
  batch_size: { type: 'integer', minimum: 1, default: 10, description: 'Images per batch, for every stream (labeled, unlabeled, ground truth for D); reference: 10.' },
} as const;

export function imagesOf(batch: Batch): Tensor4D {
  return tf.tensor4d(batch.images, batch.shape, 'float32');
}

export function labelsOf(batch: Batch, where: string): Tensor3D {
  if (!batch.labels) throw new Error(`${where}: the labeled stream returned a batch without labels`);
  const [n, h, w] = batch.shape;
  return tf.tensor3d(batch.labels, [n, h, w], 'int32');
}

/** One-hot N×H×W×C maps of a label batch; ignored (and out-of-range) pixels are all-zero vectors. */
export function oneHotLabels(labels: Tensor, numClasses: number, ignoreIndex: number): Tensor4D {
  const valid = tf.logicalAnd(tf.logicalAnd(labels.greaterEqual(0), labels.less(numClasses)), labels.notEqual(ignoreIndex));
  const safe = tf.where(valid, labels, tf.zerosLike(labels));
  return tf.oneHot(safe.toInt(), numClasses).mul(valid.toFloat().expandDims(-1)) as Tensor4D;
}

/** Adds gradient maps variable by variable (the reference accumulates `.grad` across backward calls). */
export function sumGrads(maps: readonly NamedTensorMap[]): NamedTensorMap {
  const out: NamedTensorMap = {};
  for (const m of maps) {
    for (const [name, g] of Object.entries(m)) {
      if (!g) continue;
      const prev = out[name];
      out[name] = prev ? prev.add(g) : g;
    }
  }
  return out;
}

/** Trainable variables of a network's parameter groups (frozen ones are in no group). */
export function trainableVariables(net: { parameterGroups(): { variables: Variable[] }[] }): Variable[] {
  return net.parameterGroups().flatMap((g) => g.variables);
}

/** A loss from `losses.<name>`, or the built-in default when the experiment does not name it. */
export async function lossOrDefault(ctx: BuildContext, name: string, fallback: ComponentConfig): Promise<Loss> {
  const slot = `losses.${name}`;
  if (ctx.has(slot)) return ctx.get(slot, 'loss');
  ctx.log.debug(`${ctx.slot}: no '${slot}' configured, using ${JSON.stringify(fallback)}`);
  return ctx.build('loss', fallback, slot);
}

/**
 * A trainer's named data streams. The trainer names each stream and says which part of the
 * partition it draws from; each stream's seed is derived from the trainer's seed and the name
 * (so two streams of one run are independent, and adding one shifts no other), and checkpoints
 * hold each stream's position under its name.
 */
export class Streams {
  private readonly byName = new Map<string, BatchStream>();

  constructor(
    private readonly dataset: SegmentationDataset,
    private readonly opts: { batchSize: number; seed: number },
  ) {}

  open(name: string, o: Pick<StreamOptions, 'subset' | 'unpadded'>): BatchStream {
    const stream = this.dataset.stream(name, { ...o, batchSize: this.opts.batchSize, seed: deriveSeed(this.opts.seed, `stream:${name}`) });
    this.byName.set(name, stream);
    return stream;
  }

  getState(): Record<string, unknown> {
    return { streams: Object.fromEntries([...this.byName].map(([name, s]) => [name, s.getState()])) };
  }

  setState(state: Record<string, unknown>): void {
    const streams = (state.streams ?? {}) as Record<string, Record<string, number>>;
    for (const [name, s] of this.byName) if (streams[name]) s.setState(streams[name]);
  }

  close(): void {
    for (const s of this.byName.values()) s.close();
  }
}
