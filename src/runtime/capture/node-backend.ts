/** The parts of tfjs-node's NodeJSKernelBackend that step capture uses. */
import { tf } from '../tf.js';
import type { Tensor } from '../tf.js';
import type { Binding } from './trace.js';

export interface NodeBackend {
  binding: Binding;
  /** Materialises tensors written from JavaScript but not yet handed to TensorFlow; returns binding ids. */
  getInputTensorIds(tensors: Tensor[]): number[];
  loadSavedModelMetaGraph(dir: string, tags: string): number;
  runSavedModel(id: number, inputs: Tensor[], infos: { name: string }[], outputs: string[]): Tensor[];
  deleteSavedModel(id: number): void;
}

/** tfjs-node's backend when it is the active one, else undefined. */
export function nodeBackend(): NodeBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const b = tf.backend() as unknown as Partial<NodeBackend>;
  return typeof b.runSavedModel === 'function' && typeof b.getInputTensorIds === 'function' && b.binding ? (b as NodeBackend) : undefined;
}

// TF_DataType enums, as the binding reports dtypes.
export const DT_FLOAT = 1;
export const DT_INT32 = 3;
export const DT_BOOL = 10;

export function dtypeEnum(dtype: string): number {
  switch (dtype) {
    case 'float32':
      return DT_FLOAT;
    case 'int32':
      return DT_INT32;
    case 'bool':
      return DT_BOOL;
    default:
      throw new Error(`a ${dtype} tensor cannot be fed to a compiled step`);
  }
}
