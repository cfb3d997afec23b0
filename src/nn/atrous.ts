/**
 * Atrous (dilated) 2-D convolution that can be trained on every backend.
 *
 * tfjs-core refuses gradients of `conv2d` with dilations > 1 (plain and fused, every backend), so
 * Atrous (dilated) convolutions are lowered the way TensorFlow's own `atrous_conv2d` does:
 * spaceToBatchND(rate) → conv2d('valid', undilated kernel) → batchToSpaceND(rate). All three have
 * gradients in tfjs-core and kernels on tensorflow, wasm and cpu.
 *
 * Output size follows PyTorch `Conv2d(k, padding=rate*(k-1)//2, dilation=rate, stride=1)`:
 * for odd k the output has the input's height and width.
 */
import { tf } from '../runtime/tf.js';
import type { Tensor1D, Tensor4D } from '../runtime/tf.js';

export interface AtrousOptions {
  /** Added to every output channel ([cout]). */
  bias?: Tensor1D;
  /** Symmetric zero padding per spatial side; default `floor(rate*(k-1)/2)` (PyTorch's usual choice). */
  padding?: number | [number, number];
}

function defaultPad(k: number, rate: number): number {
  return Math.floor((rate * (k - 1)) / 2);
}

/** Output [height, width] of `atrousConv2d` for an input of [h, w]. */
export function atrousOutputSize(
  h: number,
  w: number,
  kernel: [number, number],
  rate: number,
  padding?: number | [number, number],
): [number, number] {
  const [ph, pw] = padding === undefined ? [defaultPad(kernel[0], rate), defaultPad(kernel[1], rate)] : typeof padding === 'number' ? [padding, padding] : padding;
  return [h + 2 * ph - rate * (kernel[0] - 1), w + 2 * pw - rate * (kernel[1] - 1)];
}

/**
 * Dilated conv of NHWC `x` with HWIO filter `w` at dilation `rate` (a positive integer), stride 1.
 * rate 1 is a plain conv2d with the same explicit padding.
 */
export function atrousConv2d(x: Tensor4D, w: Tensor4D, rate: number, opts: AtrousOptions = {}): Tensor4D {
  if (!Number.isInteger(rate) || rate < 1) throw new RangeError(`atrousConv2d: rate must be a positive integer, got ${rate}`);
  if (x.rank !== 4 || w.rank !== 4) throw new RangeError(`atrousConv2d: expected x NHWC and w [kh,kw,cin,cout], got ranks ${x.rank} and ${w.rank}`);
  const [, h, wd, cin] = x.shape;
  const [kh, kw, wcin] = w.shape;
  if (cin !== wcin) throw new RangeError(`atrousConv2d: input has ${cin} channels but the filter expects ${wcin}`);
  const [ph, pw] =
    opts.padding === undefined ? [defaultPad(kh, rate), defaultPad(kw, rate)] : typeof opts.padding === 'number' ? [opts.padding, opts.padding] : opts.padding;
  const [oh, ow] = atrousOutputSize(h, wd, [kh, kw], rate, [ph, pw]);
  if (oh < 1 || ow < 1) throw new RangeError(`atrousConv2d: input ${h}x${wd} is too small for a ${kh}x${kw} kernel at rate ${rate}`);

  return tf.tidy(() => {
    let y: Tensor4D;
    if (rate === 1) {
      y = tf.conv2d(x, w, 1, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
    } else {
      // Pad the bottom/right further so the padded size divides by `rate`; the extra output rows
      // and columns this creates are cropped again by batchToSpaceND.
      const extraH = (rate - ((h + 2 * ph) % rate)) % rate;
      const extraW = (rate - ((wd + 2 * pw) % rate)) % rate;
      const s2b = tf.spaceToBatchND(x, [rate, rate], [
        [ph, ph + extraH],
        [pw, pw + extraW],
      ]);
      const conv = tf.conv2d(s2b as Tensor4D, w, 1, 'valid');
      y = tf.batchToSpaceND(conv, [rate, rate], [
        [0, extraH],
        [0, extraW],
      ]) as Tensor4D;
    }
    return opts.bias === undefined ? y : tf.add(y, opts.bias);
  });
}
