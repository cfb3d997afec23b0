/**
 * The single TensorFlow.js instance every module uses. Plugins must import `tf` from the public API
 * (which re-exports this) rather than from `@tensorflow/tfjs-core` directly, so that a backend
 * registered by the runtime is the one their ops run on.
 */
import * as tf from '@tensorflow/tfjs-core';
// Side effect: registers the gradient functions, which tfjs-core's Node bundle does not (see file).
import './gradients.js';

export { tf };
export type { Tensor, Tensor1D, Tensor2D, Tensor3D, Tensor4D, Scalar, Variable, NamedTensorMap, Rank } from '@tensorflow/tfjs-core';
