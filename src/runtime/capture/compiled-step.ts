/**
 * A training step run as one TensorFlow graph, in the spirit of CUDA graphs and torch.compile: on
 * the first call with a program key, the step runs eagerly three times with its variable updates
 * rolled back (a warm-up for one-time work such as kernel probes, then two runs whose ops are
 * recorded, ./trace.ts); if both recordings are the same program it is loaded as a TF_Session
 * (./program.ts). That call and every later one is then one `runSavedModel`, with the current
 * inputs and variables as feeds and the updated variables and named outputs as fetches.
 * TensorFlow's executor schedules the step's independent ops (the labeled and unlabeled passes,
 * dX and dW of each conv) on its inter-op threads, instead of JavaScript issuing ~1,400 ops one
 * after another.
 *
 * What a compiled step may depend on (checked by comparing the two recordings):
 *  - the tensors passed in (fed on every call),
 *  - tf.Variables (fed with their current values; the ones it reassigns are fetched and assigned),
 *  - tensors made inside the step from JavaScript values that are the same in both recordings
 *    (shapes, constant hyper-parameters: written into the graph as constants),
 *  - tensors that existed before the step and are the same tensor in both (immutable: constants).
 * It may not read tensor values back (return them as outputs) and must issue the same ops on every
 * call with the same key: JavaScript control flow that changes between steps (e.g. a loss switched
 * on at some iteration) belongs in the key, which selects a program of its own. Anything else
 * leaves that key's step eager, with the reason logged once.
 *
 * Trainers do not use this class directly: `defineStep` (../step.ts) decides from the run's
 * `runtime.compile` whether to compile at all, and owns reading back and disposing.
 */
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import { nodeBackend, type NodeBackend } from './node-backend.js';
import { assertSameProgram, CapturedProgram, NotCapturable, recordStep, registeredVariables, type Recording, type StepFn, type StepOutputs } from './program.js';

export type { StepFn, StepOutputs } from './program.js';

interface KeyState<O extends StepOutputs> {
  program?: CapturedProgram<O>;
  /** Set when this key's step cannot be compiled. */
  eagerReason?: string;
}

export class CompiledStep<O extends StepOutputs> {
  private readonly keys = new Map<string, KeyState<O>>();

  constructor(
    private readonly fn: StepFn<O>,
    private readonly log: (message: string) => void = () => {},
  ) {}

  /**
   * Runs the step on `inputs`. `key` names the JavaScript-side control flow the step takes (empty
   * if it always issues the same ops); the inputs' shapes and dtypes are added to it.
   *
   * The first call with a key compiles: the step runs eagerly three times with every variable
   * rolled back afterwards (a warm-up that absorbs one-time work such as kernel probes, then the
   * two recordings), and the graph then computes the call's result. So every result of a compiled
   * key comes from the graph, and a run resumed from a checkpoint computes exactly what the
   * uninterrupted run did. The step function must therefore keep its state in variables: other
   * side effects happen three times on that call (four if it cannot be compiled).
   */
  run(inputs: readonly Tensor[], key = ''): O {
    // Only tfjs-node can load a graph: on other backends the step stays eager.
    const be = nodeBackend();
    if (!be) return this.fn(inputs);
    const fullKey = `${key}|${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ')}`;
    let s = this.keys.get(fullKey);
    if (!s) {
      s = this.compile(be, inputs, `${key ? `'${key}' ` : ''}(inputs ${inputs.map((t) => t.shape.join('×')).join(', ') || 'none'})`);
      this.keys.set(fullKey, s);
    }
    return s.program ? s.program.run(be, inputs) : this.fn(inputs);
  }

  private compile(be: NodeBackend, inputs: readonly Tensor[], what: string): KeyState<O> {
    const s: KeyState<O> = {};
    const label = `step ${what}`;
    try {
      withRollback(() => tf.dispose(Object.values(this.fn(inputs))));
      const recordings: Recording[] = [];
      for (let i = 0; i < 2; i++) {
        const { recording, reason } = withRollback(() => {
          const r = recordStep(be, this.fn, inputs);
          tf.dispose(Object.values(r.result));
          return r;
        });
        if (!recording) throw new NotCapturable(reason!);
        recordings.push(recording);
      }
      assertSameProgram(recordings[0]!, recordings[1]!);
      s.program = new CapturedProgram<O>(be, recordings[1]!);
      this.log(`${label} compiled: ${s.program.ops} TensorFlow ops as one graph (${s.program.feeds} feeds, ${s.program.fetches} fetches)`);
    } catch (e) {
      if (!(e instanceof NotCapturable)) throw e;
      s.eagerReason = e.message;
      this.log(`${label} not compiled, running eagerly: ${e.message}`);
    }
    return s;
  }

  /** Whether the step for `key` (with these inputs' shapes) runs as a graph; for logs and tests. */
  status(): { key: string; compiled: boolean; reason?: string }[] {
    return [...this.keys].map(([key, s]) => ({ key, compiled: !!s.program, reason: s.eagerReason }));
  }

  dispose(): void {
    const be = nodeBackend();
    for (const s of this.keys.values()) s.program?.dispose(be);
    this.keys.clear();
  }
}

/**
 * Runs `fn`, then puts every variable back to the value it had before. Values are immutable
 * tensors, so keeping the old ones costs no copy.
 */
function withRollback<T>(fn: () => T): T {
  const saved = registeredVariables().map((v) => ({ v, value: tf.keep(v.clone()) }));
  try {
    return fn();
  } finally {
    for (const { v, value } of saved) {
      if (!v.isDisposed) v.assign(value);
      value.dispose();
    }
  }
}
