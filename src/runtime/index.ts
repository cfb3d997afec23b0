/** Public surface of the runtime: backend choice, its config schema, and the shared `tf`. */
export { selectBackend } from './backend.js';
export type { BackendRequest, BackendName, BackendSelection, RuntimeOptions, ThreadOptions, Attempt } from './backend.js';
export { runtimeOptionsSchema } from './schema.js';
export { registerComposedKernels, COMPOSED_WASM_KERNELS } from './wasm-kernels.js';
export { tf } from './tf.js';
export { defineStep, stepCompilation, currentRuntime } from './step.js';
export type { Step, StepHost, StepStatus, RuntimeInfo } from './step.js';
