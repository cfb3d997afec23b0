/**
 * `defineStep`: the one way a trainer runs the tensor work of an iteration. It owns what every
 * trainer would otherwise write by hand around that work: compiling it into one TensorFlow graph
 * per program key when the run compiles (docs/engine.md, "Compiled steps"), freeing every
 * intermediate tensor, reading the named scalar outputs back as numbers, and disposing the
 * iteration's inputs and outputs, whether the step succeeds or throws.
 */
import { tf } from './tf.js';
import type { Tensor } from './tf.js';
import { CompiledStep, type StepFn, type StepOutputs } from './capture/compiled-step.js';

export type { StepFn, StepOutputs };

/** What a component learns about the run's runtime (`BuildContext.runtime`). */
export interface RuntimeInfo {
  /** The tfjs backend in use, e.g. `tensorflow`, `wasm`, `cpu`. */
  readonly backend: string;
  /** Whether training steps run as compiled graphs (`runtime.compile`, decided for this backend). */
  readonly compile: boolean;
}

/** `runtime.compile` for a backend: `auto` compiles on the CPU tensorflow backend only (docs/engine.md). */
export function stepCompilation(setting: unknown, backend: string): boolean {
  return setting === true || ((setting === undefined || setting === 'auto') && backend === 'tensorflow');
}

/** The runtime as the current tfjs backend implies it, for components built outside a run (tests, tools). */
export function currentRuntime(): RuntimeInfo {
  const backend = tf.getBackend() ?? 'none';
  return { backend, compile: stepCompilation('auto', backend) };
}

/** The part of a BuildContext a step needs: whether to compile, and where to log what it did. */
export interface StepHost {
  readonly slot: string;
  readonly runtime: RuntimeInfo;
  readonly log: { info(message: string): void };
}

export interface StepStatus {
  /** The program key with the inputs' dtypes and shapes. */
  key: string;
  compiled: boolean;
  /** Why this key stays eager, when it does. */
  reason?: string;
}

export interface Step {
  /**
   * Runs one iteration on `inputs` and returns every output of the step function as a number.
   * `key` names the JavaScript control flow the function takes this time (a branch switched on at
   * some iteration): each key (with the inputs' shapes) is a program of its own. The inputs and
   * the outputs are disposed before this returns, also when it throws.
   */
  run(inputs: readonly Tensor[], key?: string): Record<string, number>;
  /** Which keys run as graphs, and why the others do not; for logs and tests. */
  status(): StepStatus[];
  /** Releases the loaded graphs. */
  dispose(): void;
}

/**
 * Defines a trainer's step. `fn` is a pure tensor program of its inputs and of tf.Variables that
 * returns named scalar tensors (losses, ratios) and reads nothing back; every other tensor it
 * makes is freed after it (it runs inside `tf.tidy`). With `ctx.runtime.compile` it is compiled
 * per key on tfjs-node; otherwise it runs op by op.
 *
 * Randomness: on a key's first call a compiled step runs `fn` three times (a warm-up and two
 * recordings, each rolled back). A random draw inside `fn` would advance its generator three
 * times there, and a draw made from JavaScript values would be frozen into the graph. So a step
 * that needs random numbers (a CutMix box, a dropout seed) draws them in the trainer's `step`, from
 * the run's seeded generator (`StepContext.rng`), exactly once per iteration, and passes them to
 * `run` as input tensors: the replays then see the same numbers and change nothing.
 */
export function defineStep<O extends StepOutputs>(ctx: StepHost, fn: StepFn<O>): Step {
  const tidied: StepFn<O> = (inputs) => tf.tidy(() => fn(inputs));
  const compiled = ctx.runtime.compile ? new CompiledStep(tidied, (m) => ctx.log.info(`${ctx.slot}: ${m}`)) : undefined;
  return {
    run(inputs, key = '') {
      let out: StepOutputs = {};
      try {
        out = compiled ? compiled.run(inputs, key) : tidied(inputs);
        return readScalars(out);
      } finally {
        tf.dispose([...inputs, ...Object.values(out)]);
      }
    },
    status: () => compiled?.status() ?? [],
    dispose: () => compiled?.dispose(),
  };
}

function readScalars(out: StepOutputs): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [name, t] of Object.entries(out)) {
    if (t.size !== 1) throw new Error(`step output '${name}' has shape [${t.shape.join(', ')}]: a step returns scalars (reduce it inside the step)`);
    values[name] = t.dataSync()[0]!;
  }
  return values;
}
