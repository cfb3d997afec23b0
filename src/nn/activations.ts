/** ReLU-family activations with one-op gradients on tfjs-node; plain tfjs ops elsewhere. */
import { tf } from '../runtime/tf.js';
import type { Tensor4D } from '../runtime/tf.js';
import { nativeOps } from './native.js';

/** ReLU with a one-op gradient on tfjs-node (ReluGrad). */
export function relu(x: Tensor4D): Tensor4D {
  const native = nativeOps();
  return native ? native.relu(x) : tf.relu(x);
}

/** LeakyReLU (alpha ≥ 0) with a one-op gradient on tfjs-node (LeakyReluGrad); tf.leakyRelu elsewhere. */
export function leakyRelu(x: Tensor4D, alpha: number): Tensor4D {
  const native = alpha >= 0 ? nativeOps() : undefined;
  return native ? native.leakyRelu(x, alpha) : tf.leakyRelu(x, alpha);
}
