/**
 * Pieces shared by the trainers: batches to tensors, gradient sums, stream bookkeeping for
 * checkpoints, and default losses when the experiment names none.
 */
import { tf, type Batch, type BatchStream, type BuildContext, type ComponentConfig, type Loss, type NamedTensorMap, type Tensor, type Tensor3D, type Tensor4D, type Variable } from '../../src/index.js';

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

/** Named streams whose positions go into checkpoints. */
export class Streams {
  constructor(readonly byRole: Record<string, BatchStream>) {}

  getState(): Record<string, unknown> {
    return { streams: Object.fromEntries(Object.entries(this.byRole).map(([role, s]) => [role, s.getState()])) };
  }

  setState(state: Record<string, unknown>): void {
    const streams = (state.streams ?? {}) as Record<string, Record<string, number>>;
    for (const [role, s] of Object.entries(this.byRole)) if (streams[role]) s.setState(streams[role]);
  }

  close(): void {
    for (const s of Object.values(this.byRole)) s.close();
  }
}
