/**
 * PyTorch-semantics conv2d (symmetric zero padding, stride, dilation) as ONE TensorFlow op on the
 * 'tensorflow' backend, with TensorFlow's own backprops as its gradient.
 *
 * Why not tf.conv2d: tfjs-node's Conv2D and backprop kernels accept only 'same'/'valid' and
 * tfjs-core refuses gradients of dilated convs, so the portable lowerings need an explicit PadV2
 * (plus the Slice of its gradient) or space-to-batch/transposes around every such conv.
 * TensorFlow's Conv2D/Conv2DBackpropInput/Conv2DBackpropFilter take `padding: EXPLICIT` and
 * `dilations` directly.
 *
 * It is a registered tfjs kernel (not tf.customGrad) so that the tape evaluates each input's
 * gradient lazily: when only dX is needed (a frozen network that another one trains through, as
 * in an adversarial loss) no filter gradient is computed, as with tfjs's own Conv2D_grad.
 *
 * Dilated backprops exist on CPU only through oneDNN (TF_ENABLE_ONEDNN_OPTS unset or 1; with
 * oneDNN off TensorFlow answers "Current CPU implementations do not yet support dilation rates
 * larger than 1"). A tiny probe decides once per process; without them, dX is the dilated conv of
 * dy with the flipped filter and dW one of the lowerings in ./native.ts.
 */
import { tf } from '../runtime/tf.js';
import type { Tensor, Tensor4D } from '../runtime/tf.js';

export const NATIVE_CONV_KERNEL = 'AblateNativeConv2D';

/** Attributes of the kernel (an optional `bias` input is added over the channel axis by BiasAdd). */
export interface NativeConvSpec {
  stride: number;
  padding: number;
  dilation: number;
}

export interface OpAttr {
  name: string;
  type: number;
  value: number | number[] | string | boolean;
}

export interface TfBinding {
  TF_ATTR_TYPE: number;
  TF_ATTR_FLOAT: number;
  TF_ATTR_STRING: number;
  TF_ATTR_BOOL: number;
  TF_ATTR_INT: number;
  TF_FLOAT: number;
  TF_INT32: number;
}

/** The two members of tfjs-node's NodeJSKernelBackend that the native paths use. */
export interface TfNodeBackend {
  binding: TfBinding;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: (Tensor | tf.TensorInfo)[], numOutputs: number): Tensor[];
}

/** Fallback dW for a stride-1 dilated conv when TensorFlow has no dilated Conv2DBackpropFilter. */
export type DilatedFilterGrad = (x: Tensor4D, dy: Tensor4D, wShape: readonly number[], rate: number) => Tensor;

function paddingMode(wShape: readonly number[], spec: NativeConvSpec): 'VALID' | 'SAME' | 'EXPLICIT' {
  const { stride: s, padding: p, dilation: d } = spec;
  const [kh, kw] = wShape as [number, number];
  // 'SAME' is symmetric exactly when stride is 1 and 2p = d(k−1); it is also the one form every
  // CPU path (oneDNN on or off) accepts for dilated convs.
  return p === 0 ? 'VALID' : s === 1 && kh === kw && 2 * p === d * (kh - 1) ? 'SAME' : 'EXPLICIT';
}

function convAttrs(b: TfBinding, wShape: readonly number[], spec: NativeConvSpec): OpAttr[] {
  const { stride: s, padding: p, dilation: d } = spec;
  const padding = paddingMode(wShape, spec);
  const attrs: OpAttr[] = [
    { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
    { name: 'strides', type: b.TF_ATTR_INT, value: [1, s, s, 1] },
    { name: 'padding', type: b.TF_ATTR_STRING, value: padding },
    { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'dilations', type: b.TF_ATTR_INT, value: [1, d, d, 1] },
    { name: 'use_cudnn_on_gpu', type: b.TF_ATTR_BOOL, value: true },
  ];
  if (padding === 'EXPLICIT') attrs.push({ name: 'explicit_paddings', type: b.TF_ATTR_INT, value: [0, 0, p, p, p, p, 0, 0] });
  return attrs;
}

let dilatedBackpropOk: boolean | undefined;

/** Whether this TensorFlow build has dilated Conv2DBackpropFilter/Input on its device (probed once). */
function dilatedBackpropSupported(be: TfNodeBackend): boolean {
  if (dilatedBackpropOk !== undefined) return dilatedBackpropOk;
  dilatedBackpropOk = tf.tidy(() => {
    const spec = { stride: 1, padding: 2, dilation: 2 };
    const x = tf.ones([1, 5, 5, 1]);
    const w = tf.ones([3, 3, 1, 1]);
    try {
      const attrs = convAttrs(be.binding, w.shape, spec);
      const dw = be.executeMultipleOutputs('Conv2DBackpropFilter', attrs, [x, tf.tensor1d(w.shape, 'int32'), x], 1)[0]!;
      const dx = be.executeMultipleOutputs('Conv2DBackpropInput', attrs, [tf.tensor1d(x.shape, 'int32'), w, x], 1)[0]!;
      // Centre tap sees all 25 pixels; the corner tap (offset ±2) sees a 3×3 block: 9.
      const [centre, corner] = [dw.dataSync()[4], dw.dataSync()[0]];
      return centre === 25 && corner === 9 && dx.shape.join() === '1,5,5,1';
    } catch {
      return false;
    }
  });
  return dilatedBackpropOk;
}

/** The probe's verdict once a dilated conv's gradient has run (undefined before): for tests and logs. */
export function dilatedBackpropIsNative(): boolean | undefined {
  return dilatedBackpropOk;
}

let registered = false;

/**
 * Registers the kernel and its gradient (idempotent). `backendOf()` returns tfjs-node's backend
 * at the time a kernel or gradient runs.
 */
export function registerNativeConv(backendOf: () => TfNodeBackend, dilatedFilterGrad: DilatedFilterGrad): void {
  if (registered) return;
  registered = true;
  tf.registerKernel({
    kernelName: NATIVE_CONV_KERNEL,
    backendName: 'tensorflow',
    kernelFunc: ({ inputs, attrs }) => {
      const { x, filter, bias } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo; bias?: tf.TensorInfo };
      const spec = attrs as unknown as NativeConvSpec;
      const be = backendOf();
      // tfjs-node's own kernels return engine Tensors too; the engine accepts them as TensorInfo.
      const y = be.executeMultipleOutputs('Conv2D', convAttrs(be.binding, filter.shape, spec), [x, filter], 1)[0]!;
      if (!bias) return y;
      const b = be.binding;
      const biasAttrs: OpAttr[] = [
        { name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT },
        { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' },
      ];
      const out = be.executeMultipleOutputs('BiasAdd', biasAttrs, [y, bias], 1)[0]!;
      y.dispose();
      return out;
    },
  });
  tf.registerGradient({
    kernelName: NATIVE_CONV_KERNEL,
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const [x, w] = saved as [Tensor4D, Tensor4D];
      const spec = attrs as unknown as NativeConvSpec;
      const be = backendOf();
      return { ...convGrads(be, dy as Tensor4D, x, w, spec, dilatedFilterGrad), bias: () => biasGrad(be, dy as Tensor4D) };
    },
  });
}

/** dBias of a bias added over the channel axis: one BiasAddGrad (tfjs's add gradient is Sum + Reshape). */
function biasGrad(be: TfNodeBackend, dy: Tensor4D): Tensor {
  const b = be.binding;
  return be.executeMultipleOutputs('BiasAddGrad', [{ name: 'T', type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }, { name: 'data_format', type: b.TF_ATTR_STRING, value: 'NHWC' }], [dy], 1)[0]!;
}

/** Lazily evaluated dX and dW of the native conv. */
function convGrads(be: TfNodeBackend, dy: Tensor4D, x: Tensor4D, w: Tensor4D, spec: NativeConvSpec, dilatedFilterGrad: DilatedFilterGrad): { x: () => Tensor; filter: () => Tensor } {
  const a = convAttrs(be.binding, w.shape, spec);
  if (spec.dilation > 1) {
    const native = dilatedBackpropSupported(be);
    return {
      x: () => {
        if (native) return be.executeMultipleOutputs('Conv2DBackpropInput', a, [tf.tensor1d(x.shape, 'int32'), w, dy as Tensor], 1)[0]!;
        // Stride-1 'SAME' dilated conv: dX is the same conv of dy with the spatially flipped,
        // in/out-swapped filter.
        const wT = tf.transpose(tf.reverse(w, [0, 1]), [0, 1, 3, 2]);
        return be.executeMultipleOutputs('Conv2D', a, [dy as Tensor, wT], 1)[0]!;
      },
      filter: () =>
        native
          ? be.executeMultipleOutputs('Conv2DBackpropFilter', a, [x, tf.tensor1d(w.shape, 'int32'), dy as Tensor], 1)[0]!
          : dilatedFilterGrad(x, dy as Tensor4D, w.shape, spec.dilation),
    };
  }
  if (paddingMode(w.shape, spec) !== 'EXPLICIT') {
    return {
      x: () => be.executeMultipleOutputs('Conv2DBackpropInput', a, [tf.tensor1d(x.shape, 'int32'), w, dy as Tensor], 1)[0]!,
      filter: () => be.executeMultipleOutputs('Conv2DBackpropFilter', a, [x, tf.tensor1d(w.shape, 'int32'), dy as Tensor], 1)[0]!,
    };
  }
  // EXPLICIT padding: the forward takes it, but with oneDNN its backprops were 1.5–3× slower
  // than 'VALID' ones on the padded map (measured: dW of 4×4/2 on 8×64×64×21 4.2 vs 1.4 ms),
  // so the gradients run on the padded layout: pad + dW, and dX of the padded input + crop.
  const { padding: p } = spec;
  const valid = convAttrs(be.binding, w.shape, { ...spec, padding: 0 });
  const [n, h, wd, c] = x.shape;
  return {
    x: () => {
      const dxp = be.executeMultipleOutputs('Conv2DBackpropInput', valid, [tf.tensor1d([n, h + 2 * p, wd + 2 * p, c], 'int32'), w, dy as Tensor], 1)[0]!;
      return tf.slice(dxp, [0, p, p, 0], [n, h, wd, c]);
    },
    filter: () => {
      const xp = tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
      return be.executeMultipleOutputs('Conv2DBackpropFilter', valid, [xp, tf.tensor1d(w.shape, 'int32'), dy as Tensor], 1)[0]!;
    },
  };
}

/** Runs the registered kernel (call registerNativeConv first). */
export function nativeConv2d(x: Tensor4D, w: Tensor4D, spec: NativeConvSpec, bias?: Tensor): Tensor4D {
  if (spec.dilation > 1 && paddingMode(w.shape, spec) !== 'SAME') {
    throw new RangeError(`nativeConv2d: dilation ${spec.dilation} needs stride 1, a square odd kernel and padding dilation·(k−1)/2 (got stride ${spec.stride}, padding ${spec.padding}, kernel ${w.shape[0]}×${w.shape[1]})`);
  }
  if (bias && (bias.rank !== 1 || bias.shape[0] !== w.shape[3])) throw new RangeError(`nativeConv2d: bias must be [${w.shape[3]}], got [${bias.shape}]`);
  const inputs: tf.NamedTensorMap = { x, filter: w };
  if (bias) inputs['bias'] = bias;
  return tf.engine().runKernel(NATIVE_CONV_KERNEL, inputs, { ...spec }) as Tensor4D;
}
