import { tf } from '../runtime/tf.js';
import type { Tensor } from '../runtime/tf.js';
import { nativeOps } from './native.js';

/**
 * `x` as a constant for differentiation (torch's `.detach()`, TensorFlow's stop_gradient), also for
 * values derived from it: a pseudo-label argmax(x) made from `stopGradient(x)` has no path back to
 * the variables, so tfjs neither differentiates nor asks for gradients of argmax or comparisons.
 * On tfjs-node it is one TensorFlow op the tape does not see (so it also runs in a compiled step);
 * elsewhere the values are copied through JavaScript.
 */
export function stopGradient<T extends Tensor>(x: T): T {
  const native = nativeOps();
  if (native) return native.stopGradient(x);
  return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
}
