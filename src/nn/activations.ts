/** ReLU with a one-op gradient on tfjs-node (ReluGrad); plain tf.relu elsewhere. */
import { tf } from '../runtime/tf.js';
import type { Tensor4D } from '../runtime/tf.js';
import { nativeOps } from './native.js';

export function relu(x: Tensor4D): Tensor4D {
  const native = nativeOps();
  return native ? native.relu(x) : tf.relu(x);
}
