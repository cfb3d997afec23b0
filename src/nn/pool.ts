/** Max pooling with PyTorch's padding and ceil_mode (e.g. a Caffe-style network stem: 3×3/2, pad 1, ceil). */
import { tf } from '../runtime/tf.js';
import type { Tensor4D } from '../runtime/tf.js';

/** PyTorch's pooling output length, including its rule that the last window must start inside the input or left padding. */
export function pooledSize(size: number, k: number, s: number, p: number, ceilMode: boolean): number {
  const span = size + 2 * p - k;
  let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceilMode && (out - 1) * s >= size + p) out -= 1;
  return out;
}

// Padding value: far below any activation but finite, so no inf/NaN can reach a gradient.
const NEG = -3.0e38;

export function maxPool2d(x: Tensor4D, spec: { kernel: number; stride: number; padding: number; ceilMode: boolean }): Tensor4D {
  const { kernel: k, stride: s, padding: p, ceilMode } = spec;
  const [, h, w] = x.shape;
  const oh = pooledSize(h, k, s, p, ceilMode);
  const ow = pooledSize(w, k, s, p, ceilMode);
  // Right/bottom padding so that 'valid' pooling yields exactly oh × ow windows.
  const extraH = Math.max(0, (oh - 1) * s + k - (h + p));
  const extraW = Math.max(0, (ow - 1) * s + k - (w + p));
  const padded = p === 0 && extraH === 0 && extraW === 0 ? x : tf.pad(x, [[0, 0], [p, extraH], [p, extraW], [0, 0]], NEG);
  const y = tf.maxPool(padded, k, s, 'valid');
  // 'valid' may produce one more window than PyTorch when the padding is generous; trim it.
  return y.shape[1] === oh && y.shape[2] === ow ? y : tf.slice(y, [0, 0, 0, 0], [-1, oh, ow, -1]);
}
