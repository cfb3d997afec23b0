/**
 * A network's named variables. Every variable is registered with the engine as
 * `<prefix>/<state-dict name>` (the contract's naming rule), remembers whether it trains and which
 * parameter group it belongs to, so a Network can answer `stateDict()` and `parameterGroups()`
 * without knowing its own layer structure.
 */
import { tf } from '../runtime/tf.js';
import type { Tensor, Variable } from '../runtime/tf.js';
import type { ParameterGroup } from '../plugin/contracts.js';

export interface ParamOptions {
  /** False for frozen BN affine parameters and for running statistics. */
  trainable: boolean;
  /** Parameter group name (only meaningful when trainable). */
  group?: string;
}

interface Entry {
  variable: Variable;
  trainable: boolean;
  group: string | undefined;
}

export class ParamStore {
  private readonly entries = new Map<string, Entry>();
  private counter = 0;

  /** `prefix` is the slot (`model`, or a slot a plugin pack adds); `seed` feeds every initialiser. */
  constructor(
    readonly prefix: string,
    readonly seed: number,
  ) {}

  /** A fresh deterministic seed for the next initialiser (stable creation order ⇒ stable weights). */
  nextSeed(): number {
    this.counter += 1;
    // Mix the base seed and the counter (an integer hash) so neighbouring seeds are unrelated.
    let h = (Math.imul(this.seed ^ 0x9e3779b9, 0x85ebca6b) + Math.imul(this.counter, 0xc2b2ae35)) >>> 0;
    h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) >>> 0;
    return h ^ (h >>> 16);
  }

  /** Registers `init` (ownership is taken: the tensor becomes the variable's value). */
  add(name: string, init: Tensor, opts: ParamOptions): Variable {
    if (this.entries.has(name)) throw new Error(`ParamStore(${this.prefix}): duplicate parameter ${name}`);
    const variable = tf.variable(init, opts.trainable, `${this.prefix}/${name}`);
    init.dispose();
    this.entries.set(name, { variable, trainable: opts.trainable, group: opts.group });
    return variable;
  }

  /** Every variable by state-dict name (without the prefix), in creation order. */
  stateDict(): Map<string, Variable> {
    const out = new Map<string, Variable>();
    for (const [name, e] of this.entries) out.set(name, e.variable);
    return out;
  }

  /** Trainable variables grouped by group name, in order of first appearance. */
  parameterGroups(multipliers: Readonly<Record<string, number>>): ParameterGroup[] {
    const groups = new Map<string, ParameterGroup>();
    for (const e of this.entries.values()) {
      if (!e.trainable) continue;
      const name = e.group ?? 'default';
      let g = groups.get(name);
      if (!g) {
        g = { name, variables: [], lrMultiplier: multipliers[name] ?? 1 };
        groups.set(name, g);
      }
      g.variables.push(e.variable);
    }
    return [...groups.values()];
  }

  dispose(): void {
    for (const e of this.entries.values()) e.variable.dispose();
    this.entries.clear();
  }
}
