/**
 * Initialisers, expressed in PyTorch's terms so a model can say "as the reference does".
 * Shapes are tfjs layouts; fan-in is passed explicitly because it depends on the PyTorch layer
 * type (a transposed conv's fan-in is computed from its *output* channels).
 */
import { tf } from '../runtime/tf.js';
import type { Tensor } from '../runtime/tf.js';

/** N(0, std²), e.g. PyTorch's `normal_(0, 0.01)`. */
export function normal(shape: number[], std: number, seed: number): Tensor {
  return tf.randomNormal(shape, 0, std, 'float32', seed);
}

/** U(−1/√fanIn, 1/√fanIn): PyTorch's default for conv weights (kaiming_uniform, a=√5) and biases. */
export function torchDefaultUniform(shape: number[], fanIn: number, seed: number): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.randomUniform(shape, -bound, bound, 'float32', seed);
}

export function constant(shape: number[], value: number): Tensor {
  return tf.fill(shape, value);
}
