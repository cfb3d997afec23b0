/**
 * Training kernels that @tensorflow/tfjs-backend-wasm 4.22.0 lacks, registered as kernels composed
 * from ops the wasm backend does have. Without them the wasm fallback cannot train a convnet:
 *   - Conv2DBackpropFilter (weight gradient of conv2d, fused conv2d and conv2dTranspose)
 *   - DepthwiseConv2dNativeBackpropInput / ...BackpropFilter (depthwise/separable conv gradients)
 *   - UnsortedSegmentSum (gradient of tf.gather)
 *
 * Reference counting (as tfjs-core treats kernel inputs): a kernel receives raw TensorInfos
 * owned by the caller. To compute with ordinary ops we wrap each one in a Tensor; disposing that
 * wrapper calls backend.disposeData, which decrements the *backend's* refcount of the buffer, so we
 * incRef first. Without it the caller's input would be freed under its feet.
 * Ops called inside a kernel are not recorded on the gradient tape (the engine only records at
 * kernel depth 0), so these compositions do not leak into autodiff.
 */
import { tf } from './tf.js';
import type { Tensor } from './tf.js';

type KernelFunc = tf.KernelFunc;
type KernelBackend = tf.KernelBackend;
type TensorInfo = tf.TensorInfo;

/** Names of the kernels this module registers. */
export const COMPOSED_WASM_KERNELS = [
  'Conv2DBackpropFilter',
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'UnsortedSegmentSum',
] as const;

/** Wraps the kernel's input infos as Tensors (with incRef), runs `fn` in a tidy, disposes the wrappers. */
function withTensors(
  backend: KernelBackend,
  maybeInfos: (TensorInfo | undefined)[],
  fn: (ts: Tensor[]) => Tensor,
): Tensor {
  const engine = tf.engine();
  const infos = maybeInfos.map((info, i) => {
    if (info === undefined) throw new Error(`composed kernel: input ${i} is missing`);
    return info;
  });
  const wrapped = infos.map((info) => {
    backend.incRef(info.dataId);
    return engine.makeTensorFromTensorInfo(info, backend);
  });
  try {
    return tf.tidy(() => fn(wrapped));
  } finally {
    for (const t of wrapped) t.dispose();
  }
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/**
 * im2col for NHWC `x`: pads it with the conv's padInfo, then for each kernel tap (i, j) takes the
 * strided slice the tap sees, concatenated on the channel axis → [N·outH·outW, kh·kw·C], column
 * order (i, j, c) so a reshape to [kh, kw, C, …] lines up with filter layout.
 */
function im2col(x: Tensor, info: tf.backend_util.Conv2DInfo): Tensor {
  const { padInfo, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { filterHeight: kh, filterWidth: kw, outHeight: oh, outWidth: ow, batchSize: n, inChannels: c } = info;
  const xp = tf.pad(x, [
    [0, 0],
    [padInfo.top, padInfo.bottom],
    [padInfo.left, padInfo.right],
    [0, 0],
  ]);
  const cols: Tensor[] = [];
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const r0 = i * dh;
      const c0 = j * dw;
      cols.push(
        tf.stridedSlice(xp, [0, r0, c0, 0], [n, r0 + (oh - 1) * sh + 1, c0 + (ow - 1) * sw + 1, c], [1, sh, sw, 1]),
      );
    }
  }
  const patches = cols.length === 1 ? cols[0]! : tf.concat(cols, 3);
  return tf.reshape(patches, [n * oh * ow, kh * kw * c]);
}

function toNHWC(t: Tensor, dataFormat: string): Tensor {
  return dataFormat === 'NCHW' ? tf.transpose(t, [0, 2, 3, 1]) : t;
}

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as unknown as tf.Conv2DBackpropFilterInputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  return withTensors(backend as KernelBackend, [x, dy], ([xt, dyt]) => {
    const xh = toNHWC(xt!, dataFormat);
    const dyh = toNHWC(dyt!, dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      xh.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
      'channelsLast',
    );
    const cols = im2col(xh, info); // [P, kh·kw·Cin]
    const g = tf.reshape(dyh, [-1, info.outChannels]); // [P, Cout]
    // Explicit transpose + plain matMul: wasm's matMul with transposeA is ~12x slower (measured).
    return tf.reshape(tf.matMul(tf.transpose(cols), g), filterShape);
  }) as unknown as TensorInfo;
};

const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as unknown as tf.DepthwiseConv2dNativeBackpropFilterInputs;
  const { strides, dilations, pad, dimRoundingMode, filterShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
  return withTensors(backend as KernelBackend, [x, dy], ([xt, dyt]) => {
    const info = tf.backend_util.computeConv2DInfo(
      xt!.shape as [number, number, number, number],
      filterShape,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    const [kh, kw, c, m] = filterShape;
    const taps = kh * kw;
    // patches [P, T, C] → [C, T, P]; dy [P, C·M] → [C, P, M]; per-channel matMul → [C, T, M].
    const cols = tf.transpose(tf.reshape(im2col(xt!, info), [-1, taps, c]), [2, 1, 0]); // [C, T, P]
    const g = tf.transpose(tf.reshape(dyt!, [-1, c, m]), [1, 0, 2]); // [C, P, M]
    return tf.reshape(tf.transpose(tf.matMul(cols, g), [1, 0, 2]), [kh, kw, c, m]);
  }) as unknown as TensorInfo;
};

const depthwiseBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as unknown as tf.DepthwiseConv2dNativeBackpropInputInputs;
  const { strides, dilations, pad, dimRoundingMode, inputShape } =
    attrs as unknown as tf.DepthwiseConv2dNativeBackpropInputAttrs;
  return withTensors(backend as KernelBackend, [dy, filter], ([dyt, wt]) => {
    const [kh, kw, c, m] = wt!.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(inputShape, [kh, kw, c, m], strides, dilations, pad, dimRoundingMode, true);
    const { padInfo, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
    const { outHeight: oh, outWidth: ow, batchSize: n, inHeight: ih, inWidth: iw } = info;
    const hp = ih + padInfo.top + padInfo.bottom;
    const wp = iw + padInfo.left + padInfo.right;
    const dy5 = tf.reshape(dyt!, [n, oh, ow, c, m]);
    let acc: Tensor | null = null;
    // col2im: each tap's contribution, spread back by the stride (zeros between), placed at its
    // offset in the padded input; the sum over taps is cropped to the unpadded input.
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        const wij = tf.reshape(tf.slice(wt!, [i, j, 0, 0], [1, 1, c, m]), [c, m]);
        let contrib = tf.sum(tf.mul(dy5, wij), 4); // [n, oh, ow, c]
        if (sh > 1 || sw > 1) {
          const spaced = tf.pad(tf.reshape(contrib, [n, oh, 1, ow, 1, c]), [
            [0, 0],
            [0, 0],
            [0, sh - 1],
            [0, 0],
            [0, sw - 1],
            [0, 0],
          ]);
          contrib = tf.reshape(spaced, [n, oh * sh, ow * sw, c]);
        }
        const r0 = i * dh;
        const c0 = j * dw;
        // Rows past the padded input are the stride's trailing zeros: trim them.
        const hUse = Math.min(oh * sh, hp - r0);
        const wUse = Math.min(ow * sw, wp - c0);
        if (hUse < oh * sh || wUse < ow * sw) contrib = tf.slice(contrib, [0, 0, 0, 0], [n, hUse, wUse, c]);
        const placed = tf.pad(contrib, [
          [0, 0],
          [r0, hp - r0 - hUse],
          [c0, wp - c0 - wUse],
          [0, 0],
        ]);
        acc = acc === null ? placed : tf.add(acc, placed);
      }
    }
    return tf.slice(acc!, [0, padInfo.top, padInfo.left, 0], [n, ih, iw, c]);
  }) as unknown as TensorInfo;
};

const unsortedSegmentSum: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, segmentIds } = inputs as unknown as tf.UnsortedSegmentSumInputs;
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  return withTensors(backend as KernelBackend, [x, segmentIds], ([xt, idt]) => {
    const ids = tf.cast(tf.reshape(idt!, [-1]), 'int32');
    const rest = xt!.shape.slice(idt!.rank);
    const rows = tf.reshape(xt!, [ids.shape[0]!, ...rest]);
    // Like TF, ids outside [0, numSegments) are dropped: their rows become zeros sent to segment 0.
    const valid = tf.logicalAnd(tf.greaterEqual(ids, 0), tf.less(ids, numSegments));
    const idx = tf.reshape(tf.where(valid, ids, tf.zerosLike(ids)), [-1, 1]);
    const mask = tf.reshape(tf.cast(valid, rows.dtype), [ids.shape[0]!, ...rest.map(() => 1)]);
    // scatterND adds the updates of duplicate indices, which is exactly a segment sum.
    return tf.scatterND(idx, tf.mul(rows, mask), [numSegments, ...rest]);
  }) as unknown as TensorInfo;
};

/**
 * dX of conv2d as a forward conv: dy spread by the stride (zeros between), padded so that a 'valid'
 * correlation with the spatially flipped, in/out-swapped filter yields the input's size.
 * Replaces wasm's own Conv2DBackpropInput, a naive loop ~10x slower than its conv2d (measured:
 * 946 ms vs 90 ms at [4,33,33,128]x[3,3,128,128]); conv2dTranspose uses this kernel too.
 */
const conv2DBackpropInput: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, filter } = inputs as unknown as tf.Conv2DBackpropInputInputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
  return withTensors(backend as KernelBackend, [dy, filter], ([dyt, wt]) => {
    const nhwcShape: [number, number, number, number] =
      dataFormat === 'NCHW' ? [inputShape[0], inputShape[2], inputShape[3], inputShape[1]] : inputShape;
    const [kh, kw, cin, cout] = wt!.shape as [number, number, number, number];
    const info = tf.backend_util.computeConv2DInfo(nhwcShape, [kh, kw, cin, cout], strides, 1, pad, dimRoundingMode, false);
    const { padInfo, strideHeight: sh, strideWidth: sw, outHeight: oh, outWidth: ow, batchSize: n } = info;
    const [, ih, iw] = nhwcShape;
    let g = toNHWC(dyt!, dataFormat);
    if (sh > 1 || sw > 1) {
      const spaced = tf.pad(tf.reshape(g, [n, oh, 1, ow, 1, cout]), [
        [0, 0],
        [0, 0],
        [0, sh - 1],
        [0, 0],
        [0, sw - 1],
        [0, 0],
      ]);
      g = tf.slice(tf.reshape(spaced, [n, oh * sh, ow * sw, cout]), [0, 0, 0, 0], [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, cout]);
    }
    // Before/after amounts; negative ones (explicit pads larger than the kernel) become crops.
    const before = [kh - 1 - padInfo.top, kw - 1 - padInfo.left];
    const after = [ih + padInfo.top - g.shape[1]!, iw + padInfo.left - g.shape[2]!];
    g = tf.pad(g, [[0, 0], [Math.max(0, before[0]!), Math.max(0, after[0]!)], [Math.max(0, before[1]!), Math.max(0, after[1]!)], [0, 0]]);
    if (Math.min(before[0]!, before[1]!, after[0]!, after[1]!) < 0) {
      const top = Math.max(0, -before[0]!);
      const left = Math.max(0, -before[1]!);
      g = tf.slice(g, [0, top, left, 0], [n, ih + kh - 1, iw + kw - 1, cout]);
    }
    const wflip = tf.transpose(tf.reverse(wt!, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const dx = tf.conv2d(g as tf.Tensor4D, wflip, 1, 'valid');
    return dataFormat === 'NCHW' ? tf.transpose(dx, [0, 3, 1, 2]) : dx;
  }) as unknown as TensorInfo;
};

const KERNELS: Record<(typeof COMPOSED_WASM_KERNELS)[number], KernelFunc> = {
  Conv2DBackpropFilter: conv2DBackpropFilter,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInput,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilter,
  UnsortedSegmentSum: unsortedSegmentSum,
};

/**
 * Registers the composed kernels for `backendName` (default 'wasm') where the backend has none,
 * and on wasm replaces its slow Conv2DBackpropInput. Idempotent. Returns the names it registered
 * this time.
 */
export function registerComposedKernels(backendName = 'wasm'): string[] {
  const registered: string[] = [];
  for (const name of COMPOSED_WASM_KERNELS) {
    if (tf.getKernel(name, backendName) !== undefined) continue;
    tf.registerKernel({ kernelName: name, backendName, kernelFunc: KERNELS[name] });
    registered.push(name);
  }
  if (backendName === 'wasm' && tf.getKernel('Conv2DBackpropInput', 'wasm')?.kernelFunc !== conv2DBackpropInput) {
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm'); // (registerKernel would warn about a duplicate)
    tf.registerKernel({ kernelName: 'Conv2DBackpropInput', backendName, kernelFunc: conv2DBackpropInput });
    registered.push('Conv2DBackpropInput');
  }
  return registered;
}
