/**
 * A segmentation data set made of image files and label files: the generic part of file-based
 * dataset plugins. The plugins find the files and build the transforms; this
 * class decodes, checks, caches, partitions, streams and serves the evaluation split.
 */
import type { BatchStream, DatasetInput, EvalSample, Sample, SegmentationDataset, StreamOptions, Transform } from '../plugin/contracts.js';
import type { Logger } from '../plugin/define.js';
import { AblateError } from '../errors.js';
import { BadSampleError, decodeLabel, decodeRgb, labelColourLookup, toFloatImage } from './decode.js';
import { padSample } from './ops.js';
import { PrefetchingBatchStream } from './loader.js';
import { SeededRng, mixSeed } from './rng.js';

export interface FileEntry {
  id: string;
  image: string;
  label: string;
}

export type BadSamplePolicy = 'error' | 'skip';

export interface FileDatasetOptions {
  train: readonly FileEntry[];
  val: readonly FileEntry[];
  partition: { labeled: readonly string[]; unlabeled: readonly string[]; file?: string };
  numClasses: number;
  ignoreIndex: number;
  classNames: readonly string[];
  /**
   * Stored label value → class index (ignoreIndex for void); -1 marks a value that must not occur.
   * Default: 0..numClasses-1 and ignoreIndex map to themselves.
   */
  labelMap?: Int16Array;
  /** How colour label files map to stored values: RGB triples, value i at 3i (the data set's own colours). */
  labelColours?: Uint8Array;
  /** Colours for showing class maps (SegmentationDataset.classColours). */
  classColours?: Uint8Array;
  /** Training augmentation. */
  train_transforms: readonly Transform[];
  /** Training augmentation for streams that ask for `unpadded` samples (default: train_transforms). */
  unpadded_transforms?: readonly Transform[];
  /** Evaluation: transforms before padding (e.g. a fixed resize); the result's size is the one scored. */
  eval_pre_transforms: readonly Transform[];
  /** Evaluation padding (bottom/right) and its image fill colour (RGB, before normalisation). */
  eval_pad: { height: number; width: number } | null;
  pad_fill: readonly number[];
  /** Evaluation: transforms after padding (normalisation). */
  eval_post_transforms: readonly Transform[];
  dropLast: boolean;
  onBadSample: BadSamplePolicy;
  prefetch: number;
  /** Keep decoded images in memory (small data sets: decode once). */
  cache: boolean;
  /** Samples already left out before streaming (e.g. missing files under `skip`), for the count. */
  skipped?: number;
  /** What the run uses, as the tracker's dataset inputs (the plugin knows its name and source). */
  describeInputs?: () => DatasetInput[];
  log: Logger;
}

export function identityLabelMap(numClasses: number, ignoreIndex: number): Int16Array {
  const map = new Int16Array(256).fill(-1);
  for (let i = 0; i < numClasses; i++) map[i] = i;
  map[ignoreIndex] = ignoreIndex;
  return map;
}

interface Decoded {
  width: number;
  height: number;
  rgb: Uint8Array;
  label?: Uint8Array;
}

export class FileSegmentationDataset implements SegmentationDataset {
  readonly numClasses: number;
  readonly ignoreIndex: number;
  readonly classNames: readonly string[];
  readonly classColours: Uint8Array | undefined;
  readonly partition: { labeled: readonly string[]; unlabeled: readonly string[]; file?: string };
  private readonly byId = new Map<string, FileEntry>();
  private readonly labelMap: Int16Array;
  private readonly labelColours: ReadonlyMap<number, number> | undefined;
  private readonly bad = new Set<string>();
  private readonly cache = new Map<string, Decoded>();

  constructor(private readonly o: FileDatasetOptions) {
    this.numClasses = o.numClasses;
    this.ignoreIndex = o.ignoreIndex;
    this.classNames = o.classNames;
    this.classColours = o.classColours;
    this.partition = o.partition;
    this.labelMap = o.labelMap ?? identityLabelMap(o.numClasses, o.ignoreIndex);
    this.labelColours = o.labelColours && labelColourLookup(o.labelColours);
    for (const e of o.train) this.byId.set(e.id, e);
  }

  badSampleCount(): number {
    return this.bad.size + (this.o.skipped ?? 0);
  }

  describeInputs(): DatasetInput[] {
    return this.o.describeInputs?.() ?? [];
  }

  /** Records a bad sample (skip) or throws a located error (error). */
  private reject(id: string, e: BadSampleError): null {
    if (this.o.onBadSample === 'error') {
      throw new AblateError(e.code, `bad sample '${id}': ${e.file}: ${e.problem}`, {
        where: { file: e.file, key: 'dataset' },
        hint: 'Fix or remove the file, or set `dataset.on_bad_sample: skip` to skip bad samples with a warning.',
      });
    }
    if (!this.bad.has(id)) {
      this.bad.add(id);
      this.o.log.warn(`skipping bad sample '${id}': ${e.file}: ${e.problem} (${this.bad.size} skipped so far)`);
    }
    return null;
  }

  private async decode(entry: FileEntry, withLabel: boolean): Promise<Decoded> {
    const key = `${entry.id}\u0000${withLabel ? 'l' : 'u'}`;
    const cached = this.o.cache ? (this.cache.get(`${entry.id}\u0000l`) ?? this.cache.get(key)) : undefined;
    if (cached && (!withLabel || cached.label)) return cached;
    const [img, raw] = await Promise.all([decodeRgb(entry.image), withLabel ? decodeLabel(entry.label, this.labelColours) : Promise.resolve(undefined)]);
    let label: Uint8Array | undefined;
    if (raw) {
      if (raw.width !== img.width || raw.height !== img.height) {
        throw new BadSampleError(entry.label, `label is ${raw.width}×${raw.height} but image ${entry.image} is ${img.width}×${img.height} (width×height)`, 'data.size-mismatch');
      }
      label = new Uint8Array(raw.data.length);
      const map = this.labelMap;
      for (let i = 0; i < raw.data.length; i++) {
        const v = map[raw.data[i] as number] as number;
        if (v < 0) {
          throw new BadSampleError(
            entry.label,
            `label value ${raw.data[i]} at x=${i % raw.width}, y=${Math.floor(i / raw.width)} is outside [0, ${this.numClasses}) ∪ {${this.ignoreIndex}}`,
            'data.bad-label',
          );
        }
        label[i] = v;
      }
    }
    const out: Decoded = { width: img.width, height: img.height, rgb: img.data, label };
    if (this.o.cache) this.cache.set(key, out);
    return out;
  }

  /** Decodes one entry into a Sample, or null when it is bad and skipped. */
  private async loadSample(entry: FileEntry, withLabel: boolean): Promise<Sample | null> {
    if (this.bad.has(entry.id)) return null;
    try {
      const d = await this.decode(entry, withLabel);
      return { id: entry.id, height: d.height, width: d.width, image: toFloatImage(d.rgb), label: d.label ? d.label.slice() : undefined };
    } catch (e) {
      if (e instanceof BadSampleError) return this.reject(entry.id, e);
      throw e;
    }
  }

  private applyAll(sample: Sample, transforms: readonly Transform[], rng: SeededRng): Sample {
    let s = sample;
    for (const t of transforms) s = t.apply(s, rng);
    return s;
  }

  stream(name: string, opts: StreamOptions): BatchStream {
    if (opts.subset !== 'labeled' && opts.subset !== 'unlabeled') {
      throw new AblateError('data.bad-stream-subset', `the ${name} stream asks for subset '${String(opts.subset)}'; a stream draws from 'labeled' or 'unlabeled'`);
    }
    const ids = opts.subset === 'unlabeled' ? this.partition.unlabeled : this.partition.labeled;
    const entries = ids.map((id) => {
      const e = this.byId.get(id);
      if (!e) throw new AblateError('data.bad-partition', `partition id '${id}' is not in the training list`);
      return e;
    });
    const withLabels = opts.subset === 'labeled';
    const transforms = opts.unpadded ? (this.o.unpadded_transforms ?? this.o.train_transforms) : this.o.train_transforms;
    return new PrefetchingBatchStream(
      {
        size: entries.length,
        load: async (index, rng) => {
          const s = await this.loadSample(entries[index] as FileEntry, withLabels);
          return s ? this.applyAll(s, transforms, rng as SeededRng) : null;
        },
      },
      { batchSize: opts.batchSize, seed: opts.seed, dropLast: this.o.dropLast, prefetch: this.o.prefetch, withLabels, name },
    );
  }

  async *evaluation(opts: { limit?: number } = {}): AsyncIterable<EvalSample> {
    const limit = opts.limit ?? this.o.val.length;
    const entries = this.o.val.slice(0, Math.max(0, limit));
    // Decode a few images ahead; evaluation is deterministic, so the rng only exists for the contract.
    const depth = Math.max(1, this.o.prefetch);
    const pending: Promise<EvalSample | null>[] = [];
    let next = 0;
    const start = () => {
      while (pending.length < depth && next < entries.length) {
        const p = this.evalSample(entries[next] as FileEntry, next);
        p.catch(() => undefined);
        pending.push(p);
        next++;
      }
    };
    start();
    while (pending.length > 0) {
      const item = await (pending.shift() as Promise<EvalSample | null>);
      start();
      if (item) yield item;
    }
  }

  private async evalSample(entry: FileEntry, index: number): Promise<EvalSample | null> {
    const loaded = await this.loadSample(entry, true);
    if (!loaded) return null;
    const rng = new SeededRng(mixSeed(0x5eed, index));
    const scored = this.applyAll(loaded, this.o.eval_pre_transforms, rng);
    const label = scored.label as Uint8Array;
    const padded = this.o.eval_pad ? padSample({ ...scored, label: undefined }, this.o.eval_pad.height, this.o.eval_pad.width, this.o.pad_fill, this.ignoreIndex) : scored;
    const ready = this.applyAll(padded, this.o.eval_post_transforms, rng);
    return { id: entry.id, shape: [1, ready.height, ready.width, 3], image: ready.image, label, height: scored.height, width: scored.width };
  }
}
