/** Bilinear resize with align_corners=True (PyTorch `F.interpolate(..., align_corners=True)`). */
import { tf } from '../runtime/tf.js';
import type { Tensor4D } from '../runtime/tf.js';

export function resizeBilinearAlignCorners(x: Tensor4D, size: readonly [number, number]): Tensor4D {
  if (x.shape[1] === size[0] && x.shape[2] === size[1]) return x;
  // tfjs's alignCorners=true (half-pixel centres off) maps dst i to src i·(in−1)/(out−1), as PyTorch does.
  return tf.image.resizeBilinear(x, [size[0], size[1]], true, false);
}
