/**
 * Per-variable optimizer buffers (momentum, Adam moments) held outside any tidy scope. Buffers are
 * allocated up front, so the number of live tensors does not change when the first update lands;
 * replacing a buffer disposes the old one.
 */
import { tf, type NamedTensorMap, type Tensor, type Variable } from '../../src/index.js';

export class SlotBuffers {
  private readonly buffers = new Map<string, Tensor>();

  constructor(
    private readonly suffix: string,
    variables: readonly Variable[],
  ) {
    for (const v of variables) this.buffers.set(v.name, tf.keep(tf.zerosLike(v)));
  }

  get(name: string): Tensor {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`optimizer has no ${this.suffix} buffer for variable '${name}'`);
    return b;
  }

  /** Stores `value` (kept past any enclosing tidy) and releases the previous buffer. */
  set(name: string, value: Tensor): void {
    const old = this.buffers.get(name);
    this.buffers.set(name, tf.keep(value));
    if (old && old !== value) old.dispose();
  }

  /** The live buffers for a checkpoint, keyed `<variable>/<suffix>` (contract: not disposed by the caller). */
  snapshot(into: NamedTensorMap): void {
    for (const [name, t] of this.buffers) into[`${name}/${this.suffix}`] = t;
  }

  /** Loads what `snapshot` wrote (copies; the caller keeps ownership of `state`). */
  restore(state: NamedTensorMap): void {
    for (const name of this.buffers.keys()) {
      const t = state[`${name}/${this.suffix}`];
      if (t) this.set(name, t.clone());
    }
  }

  dispose(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
  }
}

/** Per-variable integer counters (updates seen), checkpointed as scalars `<variable>/<suffix>`. */
export class Counters {
  readonly values = new Map<string, number>();
  constructor(private readonly suffix: string) {}

  get(name: string): number {
    return this.values.get(name) ?? 0;
  }

  /** Fresh scalars (the engine reads getState inside a tidy, so they are released there). */
  snapshot(into: NamedTensorMap): void {
    for (const [name, n] of this.values) into[`${name}/${this.suffix}`] = tf.scalar(n, 'int32');
  }

  restore(state: NamedTensorMap, names: Iterable<string>): void {
    this.values.clear();
    for (const name of names) {
      const t = state[`${name}/${this.suffix}`];
      if (t) this.values.set(name, t.dataSync()[0]!);
    }
  }
}
