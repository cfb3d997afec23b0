/**
 * ablate's public API: everything a plugin (built-in or a user's own) may import. Built-in plugins
 * under `plugins/` use exactly this module, nothing deeper.
 */
export { tf } from './runtime/tf.js';
export * from './plugin/contracts.js';
export { PLUGIN_KINDS, type PluginKind } from './plugin/kinds.js';
export type { MapSlotSpec, SlotSpec } from './plugin/slots.js';
export {
  definePlugin,
  definePack,
  componentSchema,
  type PluginPack,
  type PluginEntry,
  type PluginDefinition,
  type AnyPlugin,
  type BuildContext,
  type ComponentConfig,
  type JsonSchema,
  type Logger,
  type PluginTool,
} from './plugin/define.js';
export { AblateError, AblateErrors, type SourceLocation } from './errors.js';
export { deriveSeed } from './seeds.js';
// Tracking: the local record a sink may read or replay (the sink contract is in plugin/contracts).
export * from './tracking/index.js';
// Data: seeded rng, decoding, image ops, partitions, prefetching streams (for dataset/transform plugins).
export * from './data/index.js';
// Generic layers and weight files (PyTorch-compatible), used by the built-in networks.
export * as nn from './nn/index.js';
export * as weights from './weights/index.js';
// Pictures for a run's artifacts (class maps, sample grids, heatmaps), drawn with sharp.
export * as images from './images/index.js';
// A trainer's step: compiled to one TensorFlow graph per iteration when the run compiles, read back, disposed.
export { defineStep, type Step, type StepFn, type StepHost, type StepOutputs, type StepStatus, type RuntimeInfo } from './runtime/step.js';
// Where ablate's files are (a launcher starts `<packageRoot>/bin/ablate.js` in its child processes).
export { packageRoot } from './package-root.js';
