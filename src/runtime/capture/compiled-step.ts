/**
 * A training step run as one TensorFlow graph once it has been recorded twice, in the spirit of
 * CUDA graphs and torch.compile: for each program key, the first call runs eagerly (one-time work
 * such as kernel probes and lazy initialisation happens there), the next two run eagerly while
 * their ops are recorded (./trace.ts), and if both recordings are the same program it is loaded
 * as a TF_Session (./program.ts). Every later call is then one `runSavedModel`, with the current
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
 */
import type { Tensor } from '../tf.js';
import { nodeBackend } from './node-backend.js';
import { assertSameProgram, CapturedProgram, NotCapturable, recordStep, type Recording, type StepFn, type StepOutputs } from './program.js';

export type { StepFn, StepOutputs } from './program.js';

interface KeyState<O extends StepOutputs> {
  calls: number;
  recordings: Recording[];
  program?: CapturedProgram<O>;
  /** Set when this key's step cannot be compiled. */
  eagerReason?: string;
}

let compilationEnabled = true;

/** `runtime.compile`: when false, every CompiledStep runs its function eagerly. */
export function setStepCompilation(enabled: boolean): void {
  compilationEnabled = enabled;
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
   */
  run(inputs: readonly Tensor[], key = ''): O {
    const be = compilationEnabled ? nodeBackend() : undefined;
    if (!be) return this.fn(inputs);
    const fullKey = `${key}|${inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ')}`;
    let s = this.keys.get(fullKey);
    if (!s) this.keys.set(fullKey, (s = { calls: 0, recordings: [] }));
    if (s.program) return s.program.run(be, inputs);
    if (s.eagerReason !== undefined || s.calls++ === 0) return this.fn(inputs);
    const { result, recording, reason } = recordStep(be, this.fn, inputs);
    if (!recording) {
      this.stayEager(s, key, reason!);
      return result;
    }
    s.recordings.push(recording);
    if (s.recordings.length === 2) {
      const [a, b] = s.recordings as [Recording, Recording];
      s.recordings = [];
      try {
        assertSameProgram(a, b);
        s.program = new CapturedProgram<O>(be, b);
        this.log(`step${key ? ` '${key}'` : ''} compiled: ${s.program.ops} TensorFlow ops as one graph (${s.program.feeds} feeds, ${s.program.fetches} fetches)`);
      } catch (e) {
        if (!(e instanceof NotCapturable)) throw e;
        this.stayEager(s, key, e.message);
      }
    }
    return result;
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

  private stayEager(s: KeyState<O>, key: string, reason: string): void {
    s.eagerReason = reason;
    s.recordings = [];
    this.log(`step${key ? ` '${key}'` : ''} not compiled, running eagerly: ${reason}`);
  }
}
