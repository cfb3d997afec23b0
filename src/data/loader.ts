/**
 * An endless, reshuffling, prefetching batch stream. Batches are decoded and augmented ahead of
 * time (`prefetch` batches in flight; sharp decodes on libuv's thread pool) so a training step
 * never waits on data when decoding keeps up.
 *
 * Determinism: epoch e's order is a seeded shuffle of (seed, e), and the sample at position p gets
 * its own random source seeded by (seed, e, p). A batch is therefore a pure function of
 * (seed, epoch, batch index), whatever the prefetch timing, and `getState`/`setState` resume exactly.
 */
import type { Batch, BatchStream, Rng, Sample } from '../plugin/contracts.js';
import { AblateError } from '../errors.js';
import { mixSeed, SeededRng, shuffled } from './rng.js';

export interface SampleSource {
  /** How many samples the stream draws from. */
  readonly size: number;
  /** Loads and augments sample `index`; `null` when it is bad and skipped. */
  load(index: number, rng: Rng): Promise<Sample | null>;
}

export interface BatchStreamOptions {
  batchSize: number;
  seed: number;
  /** Drop the last, incomplete batch of every epoch (base-101). */
  dropLast: boolean;
  /** Batches decoded ahead of the consumer. */
  prefetch?: number;
  /** Put labels into batches (false for the unlabeled stream). */
  withLabels: boolean;
  /** For messages, e.g. `labeled`. */
  name: string;
}

/** Replacement draws for a skipped sample before the stream gives up. */
const MAX_REPLACEMENTS = 20;

/** Stacks equally sized samples into one batch. */
export function collate(samples: readonly Sample[], withLabels: boolean, streamName = 'stream'): Batch {
  const first = samples[0];
  if (!first) throw new Error('collate: no samples');
  const { height: H, width: W } = first;
  const images = new Float32Array(samples.length * H * W * 3);
  const labels = withLabels ? new Int32Array(samples.length * H * W) : undefined;
  samples.forEach((s, i) => {
    if (s.height !== H || s.width !== W) {
      throw new AblateError('data.batch-size-mismatch', `the ${streamName} stream produced samples of different sizes in one batch (${first.id}: ${H}×${W}, ${s.id}: ${s.height}×${s.width})`, {
        hint: 'Give the dataset a `crop` (or a fixed `resize`) so every training sample has the same size.',
      });
    }
    images.set(s.image, i * H * W * 3);
    if (labels) {
      if (!s.label) throw new Error(`collate: sample ${s.id} has no label`);
      const off = i * H * W;
      for (let j = 0; j < H * W; j++) labels[off + j] = s.label[j] as number;
    }
  });
  return { ids: samples.map((s) => s.id), shape: [samples.length, H, W, 3], images, labels };
}

export class PrefetchingBatchStream implements BatchStream {
  private epoch = 0;
  private batch = 0;
  private readonly queue: { epoch: number; batch: number; promise: Promise<Batch> }[] = [];
  private closed = false;
  private orderCache: { epoch: number; order: number[] } | undefined;
  readonly batchesPerEpoch: number;

  constructor(
    private readonly source: SampleSource,
    private readonly opts: BatchStreamOptions,
  ) {
    const { size } = source;
    const B = opts.batchSize;
    if (!Number.isInteger(B) || B < 1) throw new AblateError('data.bad-batch-size', `batch size must be a positive integer, got ${B}`);
    if (size === 0) {
      throw new AblateError('data.empty-stream', `the ${opts.name} stream has no samples`, {
        hint: opts.withLabels ? "Check the data set's list file and how much of it is labeled." : "The data set's partition has no unlabeled images (every image is labeled): use a trainer that draws no unlabeled stream.",
      });
    }
    this.batchesPerEpoch = opts.dropLast ? Math.floor(size / B) : Math.ceil(size / B);
    if (this.batchesPerEpoch === 0) {
      throw new AblateError('data.empty-stream', `the ${opts.name} stream has ${size} sample(s), fewer than one batch of ${B}, and drop_last is on: it would yield nothing`, {
        hint: 'Lower the batch size, give this stream more samples (e.g. a larger labeled part) or turn drop_last off.',
      });
    }
  }

  private order(epoch: number): number[] {
    if (this.orderCache?.epoch !== epoch) {
      const ids = Array.from({ length: this.source.size }, (_, i) => i);
      this.orderCache = { epoch, order: shuffled(ids, new SeededRng(mixSeed(this.opts.seed, epoch))) };
    }
    return this.orderCache.order;
  }

  private async loadAt(epoch: number, position: number, index: number): Promise<Sample> {
    const { seed } = this.opts;
    const sample = await this.source.load(index, new SeededRng(mixSeed(seed, epoch, position)));
    if (sample) return sample;
    // A skipped sample is replaced by a deterministic random draw, so batch boundaries never move.
    for (let attempt = 1; attempt <= MAX_REPLACEMENTS; attempt++) {
      const pick = new SeededRng(mixSeed(seed, epoch, position, attempt));
      const replacement = await this.source.load(pick.int(0, this.source.size), pick);
      if (replacement) return replacement;
    }
    throw new AblateError('data.too-many-bad-samples', `the ${this.opts.name} stream found no usable sample in ${MAX_REPLACEMENTS + 1} draws; most of the data set seems bad`);
  }

  private async makeBatch(epoch: number, batch: number): Promise<Batch> {
    const order = this.order(epoch);
    const B = this.opts.batchSize;
    const start = batch * B;
    const end = Math.min(start + B, order.length);
    const samples: Promise<Sample>[] = [];
    for (let p = start; p < end; p++) samples.push(this.loadAt(epoch, p, order[p] as number));
    return collate(await Promise.all(samples), this.opts.withLabels, this.opts.name);
  }

  private fill(): void {
    const depth = Math.max(1, this.opts.prefetch ?? 2);
    let e = this.epoch;
    let b = this.batch;
    const last = this.queue.at(-1);
    if (last) {
      e = last.epoch;
      b = last.batch + 1;
      if (b >= this.batchesPerEpoch) {
        e += 1;
        b = 0;
      }
    }
    while (this.queue.length < depth) {
      const promise = this.makeBatch(e, b);
      promise.catch(() => undefined); // surfaced to whoever awaits it in next(), not as unhandled
      this.queue.push({ epoch: e, batch: b, promise });
      b += 1;
      if (b >= this.batchesPerEpoch) {
        e += 1;
        b = 0;
      }
    }
  }

  async next(): Promise<Batch> {
    if (this.closed) throw new Error(`the ${this.opts.name} stream is closed`);
    this.fill();
    const head = this.queue.shift();
    if (!head) throw new Error('unreachable: empty prefetch queue');
    this.epoch = head.epoch;
    this.batch = head.batch + 1;
    if (this.batch >= this.batchesPerEpoch) {
      this.epoch += 1;
      this.batch = 0;
    }
    this.fill(); // start the next batches before the caller's training step runs
    return head.promise;
  }

  getState(): Record<string, number> {
    return { epoch: this.epoch, batch: this.batch, seed: this.opts.seed };
  }

  setState(state: Record<string, number>): void {
    if (state.seed !== undefined && state.seed !== this.opts.seed) {
      throw new AblateError('data.bad-stream-state', `the ${this.opts.name} stream was saved with seed ${state.seed} but runs with seed ${this.opts.seed}`);
    }
    this.queue.length = 0;
    this.epoch = state.epoch ?? 0;
    this.batch = state.batch ?? 0;
  }

  close(): void {
    this.closed = true;
    this.queue.length = 0;
  }
}
