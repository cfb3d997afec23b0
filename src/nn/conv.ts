/**
 * Convolutions with PyTorch's padding semantics (symmetric `padding` pixels), on tfjs NHWC/HWIO.
 *
 * tfjs-node's backprop kernels accept only 'valid'/'same', and tfjs-core refuses gradients of
 * dilated convs, so each case is lowered to something every backend can differentiate:
 *   dilation > 1                 → TensorFlow's dilated Conv2D and backprops on tfjs-node
 *                                  (src/nn/native-conv.ts), else atrousConv2d (space-to-batch)
 *   padding 0                    → conv2d 'valid'
 *   stride 1, padding (k−1)/2    → conv2d 'same' (identical to symmetric padding there)
 *   otherwise                    → TensorFlow's EXPLICIT padding on tfjs-node, else zero pad + 'valid'
 */
import { tf } from '../runtime/tf.js';
import type { Tensor, Tensor4D } from '../runtime/tf.js';
import { atrousConv2d } from './atrous.js';
import { nativeOps } from './native.js';

export interface ConvSpec {
  stride?: number;
  padding?: number;
  dilation?: number;
}

/** `w` is HWIO. Output size follows PyTorch: floor((H + 2p − d(k−1) − 1)/s) + 1. */
export function conv2d(x: Tensor4D, w: Tensor4D, spec: ConvSpec = {}, bias?: Tensor): Tensor4D {
  const s = spec.stride ?? 1;
  const p = spec.padding ?? 0;
  const d = spec.dilation ?? 1;
  // On tfjs-node the native kernel adds the bias itself (BiasAdd, one-op BiasAddGrad gradient).
  const native = bias && bias.rank === 1 ? nativeOps() : undefined;
  if (native && nativeConvApplies(w, s, p, d)) return native.conv2d(x, w, { stride: s, padding: p, dilation: d }, bias);
  const y = convNoBias(x, w, s, p, d);
  return bias ? tf.add(y, bias) : y;
}

/** Whether convNoBias would take the native kernel on tfjs-node (dilated with odd k, or EXPLICIT padding). */
function nativeConvApplies(w: Tensor4D, s: number, p: number, d: number): boolean {
  const [kh, kw] = w.shape;
  if (d > 1) return s === 1 && kh === kw && kh % 2 === 1 && 2 * p === d * (kh - 1);
  return p !== 0 && !(s === 1 && kh === kw && 2 * p === kh - 1);
}

function convNoBias(x: Tensor4D, w: Tensor4D, s: number, p: number, d: number): Tensor4D {
  const [kh, kw] = w.shape;
  if (d > 1) {
    if (s !== 1 || kh !== kw || 2 * p !== d * (kh - 1)) {
      throw new Error(`conv2d: dilation ${d} needs stride 1 and padding dilation·(k−1)/2 (got stride ${s}, padding ${p}, kernel ${kh}×${kw})`);
    }
    const native = kh % 2 === 1 ? nativeOps() : undefined;
    return native ? native.conv2d(x, w, { stride: 1, padding: p, dilation: d }) : atrousConv2d(x, w, d);
  }
  if (p === 0) return tf.conv2d(x, w, s, 'valid');
  if (s === 1 && kh === kw && 2 * p === kh - 1) return tf.conv2d(x, w, 1, 'same');
  // TensorFlow's EXPLICIT padding: no PadV2 forward and no Slice in the gradient.
  const native = nativeOps();
  if (native) return native.conv2d(x, w, { stride: s, padding: p, dilation: 1 });
  const padded = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
  return tf.conv2d(padded, w, s, 'valid');
}

/**
 * PyTorch ConvTranspose2d (output_padding 0): output (H−1)·s − 2p + k. `w` is [kh, kw, out, in]
 * (tfjs's conv2dTranspose layout). Computed as the 'valid' transposed conv, then `p` pixels are
 * trimmed from each side, because the native backprop kernel has no explicit padding.
 */
export function convTranspose2d(x: Tensor4D, w: Tensor4D, spec: { stride: number; padding: number }, bias?: Tensor): Tensor4D {
  const [n, h, wd] = x.shape;
  const [kh, kw, outC] = w.shape;
  const { stride: s, padding: p } = spec;
  const fullH = (h - 1) * s + kh;
  const fullW = (wd - 1) * s + kw;
  let y: Tensor4D = tf.conv2dTranspose(x, w, [n, fullH, fullW, outC], s, 'valid');
  if (p > 0) y = tf.slice(y, [0, p, p, 0], [n, fullH - 2 * p, fullW - 2 * p, outC]);
  return bias ? tf.add(y, bias) : y;
}
