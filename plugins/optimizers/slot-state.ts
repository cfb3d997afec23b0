/**
 * Optimizer state kept in tf.Variables: per-variable buffers (momentum, Adam moments), per-variable
 * update counts, and per-group learning rates. Everything an update reads is a tensor, so an
 * update is a pure tensor program whose inputs are variables: it can run inside a compiled step
 * (src/runtime/capture), where JavaScript numbers changing between steps could not reach it.
 * (PyTorch's `capturable` optimizers keep their step counts on the device for the same reason.)
 */
import { tf, type NamedTensorMap, type Optimizer, type Scalar, type Tensor, type Variable } from '../../src/index.js';
import { groupLearningRates, type ResolvedGroup } from './groups.js';

/** A non-trainable float32 variable of zeros. */
function zeroVariable(shape: readonly number[]): Variable {
  const zeros = tf.zeros([...shape]);
  const v = tf.variable(zeros, false);
  zeros.dispose();
  return v;
}

export class SlotBuffers {
  private readonly buffers = new Map<string, Variable>();

  constructor(
    private readonly suffix: string,
    variables: readonly Variable[],
  ) {
    for (const v of variables) this.buffers.set(v.name, zeroVariable(v.shape));
  }

  get(name: string): Variable {
    const b = this.buffers.get(name);
    if (!b) throw new Error(`optimizer has no ${this.suffix} buffer for variable '${name}'`);
    return b;
  }

  /** Replaces the buffer's value (the variable keeps `value` alive past any enclosing tidy). */
  set(name: string, value: Tensor): void {
    this.get(name).assign(value);
  }

  /** The live buffers for a checkpoint, keyed `<variable>/<suffix>` (contract: not disposed by the caller). */
  snapshot(into: NamedTensorMap): void {
    for (const [name, t] of this.buffers) into[`${name}/${this.suffix}`] = t;
  }

  /** Loads what `snapshot` wrote (the caller keeps ownership of `state`). */
  restore(state: NamedTensorMap): void {
    for (const [name, b] of this.buffers) {
      const t = state[`${name}/${this.suffix}`];
      if (t) b.assign(t.clone());
    }
  }

  dispose(): void {
    for (const t of this.buffers.values()) t.dispose();
    this.buffers.clear();
  }
}

/**
 * Per-variable update counts as float32 scalars on the device (exact up to 2^24 updates), advanced
 * by the update itself; checkpointed as int32 scalars `<variable>/<suffix>`.
 */
export class Counters {
  private readonly counts = new Map<string, Variable>();

  constructor(
    private readonly suffix: string,
    variables: readonly Variable[],
  ) {
    for (const v of variables) this.counts.set(v.name, zeroVariable([]));
  }

  get(name: string): Variable {
    const c = this.counts.get(name);
    if (!c) throw new Error(`optimizer has no ${this.suffix} count for variable '${name}'`);
    return c;
  }

  /** Adds one to the variable's count (a tensor op) and returns the new count. */
  increment(name: string, one: Scalar): Scalar {
    const c = this.get(name);
    const next = tf.add(c, one) as Scalar;
    c.assign(next);
    return next;
  }

  /** Fresh int32 scalars (the engine reads getState inside a tidy, so they are released there). */
  snapshot(into: NamedTensorMap): void {
    for (const [name, c] of this.counts) into[`${name}/${this.suffix}`] = tf.cast(c, 'int32');
  }

  restore(state: NamedTensorMap): void {
    for (const [name, c] of this.counts) {
      const t = state[`${name}/${this.suffix}`];
      c.assign(t ? tf.cast(t, 'float32') : tf.scalar(0));
    }
  }

  dispose(): void {
    for (const c of this.counts.values()) c.dispose();
    this.counts.clear();
  }
}

/**
 * The effective learning rate of each parameter group (base × the group's multiplier, computed in
 * double precision as before) as scalar variables, written whenever the scheduler sets the base.
 */
export class GroupLearningRates {
  private base = 0;
  private readonly rates: Variable[];
  private readonly multipliers: number[];

  constructor(private readonly groups: readonly ResolvedGroup[]) {
    this.multipliers = groups.map((g) => g.lrMultiplier);
    this.rates = groups.map(() => zeroVariable([]));
  }

  get value(): number {
    return this.base;
  }

  set value(lr: number) {
    this.base = lr;
    this.multipliers.forEach((m, i) => {
      const s = tf.scalar(lr * m);
      this.rates[i]!.assign(s);
      s.dispose();
    });
  }

  /** The effective learning rate of every group, by name, for logging. */
  byGroup(): Record<string, number> {
    return groupLearningRates(this.groups, this.base);
  }

  /** The scalar variable holding group `i`'s learning rate. */
  of(i: number): Variable {
    return this.rates[i]!;
  }

  dispose(): void {
    for (const r of this.rates) r.dispose();
  }
}

/**
 * An Optimizer whose `learningRate` (set by the schedulers) writes the groups' learning-rate
 * variables; `parts` is the rest of it.
 */
export function optimizerWithRates(rates: GroupLearningRates, parts: Omit<Optimizer, 'learningRate' | 'learningRates'>): Optimizer {
  return {
    get learningRate() {
      return rates.value;
    },
    set learningRate(lr: number) {
      rates.value = lr;
    },
    learningRates: () => rates.byGroup(),
    ...parts,
  };
}
