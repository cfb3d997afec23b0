/** Weight files: safetensors I/O and PyTorch state-dict import/export. */
export { readSafetensors, writeSafetensors, parseSafetensors, serializeSafetensors, type RawTensor, type SafetensorsFile, type SafetensorsDtype, type TensorToWrite } from './safetensors.js';
export { permute, torchToTfjs, tfjsToTorch, tfjsShapeOf, type HostTensor } from './layout.js';
export {
  loadStateDict,
  loadSafetensorsInto,
  formatLoadReport,
  assertSomethingLoaded,
  exportStateDict,
  saveSafetensors,
  type LoadOptions,
  type LoadReport,
  type ShapeMismatch,
} from './state-dict.js';
