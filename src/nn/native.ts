/**
 * Fused TensorFlow kernels for the 'tensorflow' backend (tfjs-node), used where tfjs-core would
 * otherwise compose many small ops. Each eager op costs ~50 µs of dispatch in tfjs-node, and a
 * train-mode batch norm written with tfjs ops is ~15 ops forward and ~25 backward; TensorFlow's
 * FusedBatchNormV3 / FusedBatchNormGradV3 do the same in one op each, and ReluGrad replaces
 * tfjs's Step+Mul relu gradient.
 *
 * Likewise LeakyReluGrad for tfjs's Greater+Select+Mul, and SparseSoftmaxCrossEntropyWithLogits
 * (loss and gradient in one op) for a logSoftmax·oneHot cross-entropy.
 *
 * tfjs-node's backend exposes `executeMultipleOutputs(opName, attrs, inputs, n)`, which runs any
 * TensorFlow op by name; the outputs are ordinary engine tensors. Gradients are attached with
 * tf.customGrad, so the tape sees one node per fused op; convolutions are a registered kernel
 * instead (./native-conv.ts), so that only the input gradients a tape needs are computed. On other
 * backends `nativeOps()` is undefined and callers use their portable composition.
 */
import { tf } from '../runtime/tf.js';
import type { Tensor, Tensor4D } from '../runtime/tf.js';
import { nativeConv2d, registerNativeConv, type NativeConvSpec, type OpAttr, type TfNodeBackend } from './native-conv.js';

function nodeBackend(): TfNodeBackend | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  // The backend object is tfjs-node's NodeJSKernelBackend; only the two members above are used.
  const b = tf.backend() as unknown as Partial<TfNodeBackend>;
  return typeof b.executeMultipleOutputs === 'function' && b.binding ? (b as TfNodeBackend) : undefined;
}

/** Set ABLATE_NATIVE_OPS=0 to force the portable compositions (for A/B timing and debugging). */
const disabled = process.env['ABLATE_NATIVE_OPS'] === '0';

export interface NativeOps {
  /**
   * Train-mode batch norm: normalises with the batch moments and returns the updated running
   * statistics, (1 − f)·running + f·batch with the unbiased batch variance (PyTorch's rule).
   */
  batchNormTrain(x: Tensor4D, scale: Tensor, offset: Tensor, runningMean: Tensor, runningVar: Tensor, eps: number, momentum: number): { y: Tensor4D; mean: Tensor; variance: Tensor };
  relu(x: Tensor4D): Tensor4D;
  /**
   * Stride-1 dilated conv with PyTorch padding dilation·(k−1)/2 (TensorFlow 'SAME' for odd k),
   * run as TensorFlow's own dilated Conv2D and backprops: tfjs-core refuses these gradients, but
   * the TensorFlow kernels support dilation, and at small feature maps with large rates they avoid
   * space-to-batch's padding waste (rate 12 on a 9×9 map pads each sub-image to 3×3 of mostly zeros).
   */
  conv2dDilated(x: Tensor4D, w: Tensor4D, rate: number): Tensor4D;
  /**
   * PyTorch Conv2d (symmetric zero padding, stride, dilation) as one TensorFlow Conv2D with
   * EXPLICIT padding or dilations, and TensorFlow's backprops as its lazily evaluated gradients
   * (src/nn/native-conv.ts). Dilated convs need stride 1 and padding dilation·(k−1)/2.
   */
  conv2d(x: Tensor4D, w: Tensor4D, spec: NativeConvSpec, bias?: Tensor): Tensor4D;
  /** LeakyReLU with TensorFlow's one-op LeakyReluGrad (tfjs's gradient is Greater + Select + Mul). */
  leakyRelu(x: Tensor4D, alpha: number): Tensor4D;
  /**
   * Per-row softmax cross-entropy of [rows, classes] logits against int32 labels in [0, classes):
   * TensorFlow's SparseSoftmaxCrossEntropyWithLogits, which yields the loss and d loss/d logits
   * (softmax − one-hot) in ONE op; the gradient is then that times dy (tfjs's logSoftmax · oneHot
   * composition is ~10 full-size ops forward and backward).
   */
  softmaxCrossEntropy(logits2d: Tensor, labels1d: Tensor): Tensor;
  /** TensorFlow's StopGradient, run outside the tape: gradients neither flow nor are looked for through it. */
  stopGradient<T extends Tensor>(x: T): T;
}

// One NativeOps object per backend instance: nativeOps() is called for every layer application.
let cached: { be: TfNodeBackend; ops: NativeOps } | undefined;

export function nativeOps(): NativeOps | undefined {
  if (disabled) return undefined;
  const be = nodeBackend();
  if (!be) return undefined;
  if (cached?.be !== be) cached = { be, ops: makeNativeOps(be) };
  return cached.ops;
}

function makeNativeOps(be: TfNodeBackend): NativeOps {
  // The kernel looks the backend up when it runs, so a re-created backend is picked up.
  registerNativeConv(() => nodeBackend() ?? be, dilatedFilterGradAuto);
  const { binding } = be;
  const typeAttr = (name: string): OpAttr => ({ name, type: binding.TF_ATTR_TYPE, value: binding.TF_FLOAT });
  const bnAttrs = (eps: number, training: boolean, factor = 1): OpAttr[] => [
    typeAttr('T'),
    typeAttr('U'),
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: eps },
    { name: 'exponential_avg_factor', type: binding.TF_ATTR_FLOAT, value: factor },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: training },
  ];
  const gradAttrs = (eps: number): OpAttr[] => [
    typeAttr('T'),
    typeAttr('U'),
    { name: 'epsilon', type: binding.TF_ATTR_FLOAT, value: eps },
    { name: 'data_format', type: binding.TF_ATTR_STRING, value: 'NHWC' },
    { name: 'is_training', type: binding.TF_ATTR_BOOL, value: true },
  ];

  return {
    batchNormTrain(x, scale, offset, runningMean, runningVar, eps, momentum) {
      // Running statistics are side outputs: computed outside the tape's view of the op.
      let stats: Tensor[] = [];
      const f = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
        const [xIn, sIn, oIn, save] = args as [Tensor, Tensor, Tensor, tf.GradSaveFunc];
        const outs = be.executeMultipleOutputs('FusedBatchNormV3', bnAttrs(eps, true, momentum), [xIn, sIn, oIn, runningMean, runningVar], 6);
        const [y, newMean, newVar, r1, r2, r3] = outs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor];
        // customGrad disposes everything f made except its value and saved tensors: keep the stats.
        stats = [tf.keep(newMean), tf.keep(newVar)];
        save([xIn, sIn, r1, r2, r3]);
        return {
          value: y,
          gradFunc: (dy: Tensor, saved: Tensor[]) => {
            const [dx, dscale, doffset, r4, r5] = be.executeMultipleOutputs('FusedBatchNormGradV3', gradAttrs(eps), [dy, ...saved], 5);
            tf.dispose([r4!, r5!]);
            return [dx!, dscale!, doffset!];
          },
        };
      });
      const y = f(x, scale, offset) as Tensor4D;
      const [mean, variance] = stats as [Tensor, Tensor];
      return { y, mean, variance };
    },
    conv2dDilated(x, w, rate) {
      return nativeConv2d(x, w, { stride: 1, padding: (rate * (w.shape[0] - 1)) / 2, dilation: rate });
    },
    conv2d(x, w, spec, bias) {
      return nativeConv2d(x, w, spec, bias);
    },
    softmaxCrossEntropy(logits2d, labels1d) {
      const attrs: OpAttr[] = [typeAttr('T'), { name: 'Tlabels', type: binding.TF_ATTR_TYPE, value: binding.TF_INT32 }];
      const f = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
        const [logits, save] = args as [Tensor, tf.GradSaveFunc];
        const [loss, backprop] = be.executeMultipleOutputs('SparseSoftmaxCrossEntropyWithLogits', attrs, [logits, labels1d], 2) as [Tensor, Tensor];
        save([backprop]);
        return {
          value: loss,
          gradFunc: (dy: Tensor, saved: Tensor[]) => tf.mul(saved[0]!, tf.expandDims(dy, 1)),
        };
      });
      return f(logits2d);
    },
    stopGradient<T extends Tensor>(x: T): T {
      const dtype = x.dtype === 'float32' ? binding.TF_FLOAT : x.dtype === 'int32' ? binding.TF_INT32 : undefined;
      if (dtype === undefined) return tf.tensor(x.dataSync(), x.shape, x.dtype) as T;
      return be.executeMultipleOutputs('StopGradient', [{ name: 'T', type: binding.TF_ATTR_TYPE, value: dtype }], [x], 1)[0] as T;
    },
    leakyRelu(x, alpha) {
      const attrs: OpAttr[] = [typeAttr('T'), { name: 'alpha', type: binding.TF_ATTR_FLOAT, value: alpha }];
      const f = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
        const [xIn, save] = args as [Tensor, tf.GradSaveFunc];
        const y = be.executeMultipleOutputs('LeakyRelu', attrs, [xIn], 1)[0]!;
        // The output decides the branch as well as the input does (y > 0 ⇔ x > 0 for alpha ≥ 0),
        // and it is what the next layer keeps alive anyway.
        save([y]);
        return {
          value: y,
          gradFunc: (dy: Tensor, saved: Tensor[]) => be.executeMultipleOutputs('LeakyReluGrad', attrs, [dy, saved[0]!], 1)[0]!,
        };
      });
      return f(x) as Tensor4D;
    },
    relu(x) {
      const f = tf.customGrad((...args: (Tensor | tf.GradSaveFunc)[]) => {
        const [xIn, save] = args as [Tensor, tf.GradSaveFunc];
        const y = tf.relu(xIn);
        save([y]);
        return {
          value: y,
          gradFunc: (dy: Tensor, saved: Tensor[]) => be.executeMultipleOutputs('ReluGrad', [typeAttr('T')], [dy, saved[0]!], 1)[0]!,
        };
      });
      return f(x) as Tensor4D;
    },
  };
}

// Above this many im2col elements the single-conv dW was slower than per-tap matmuls here
// (measured: 4×9×9×512 d6 conv 4 ms vs taps 6 ms; 10×41×41×256 d2 conv 3.0 s vs taps 1.7 s).
const CONV_DW_MAX_PATCH = 4 * 1024 * 1024;

/**
 * Picks the dW lowering: one strided conv for small maps (fewest ops), per-tap matmuls for big
 * maps or when some taps only ever see padding (those taps then cost nothing).
 */
export function dilatedFilterGradAuto(x: Tensor4D, dy: Tensor4D, wShape: readonly number[], rate: number): Tensor {
  const [n, h, w, cin] = x.shape;
  const [kh, kw] = wShape as [number, number];
  const deadTaps = (rate * (kh - 1)) / 2 >= h || (rate * (kw - 1)) / 2 >= w;
  const patch = cin * kh * kw * n * h * w;
  return !deadTaps && patch <= CONV_DW_MAX_PATCH ? dilatedFilterGradConv(x, dy, wShape, rate) : dilatedFilterGrad(x, dy, wShape, rate);
}

/**
 * dW of a stride-1 dilated conv as ONE ordinary conv: dW[i,j,ci,co] = Σ x_pad[n, y+i·d, x+j·d, ci]·dy[n,y,x,co]
 * is a 'valid' correlation of x_pad (input channels as the batch, N as channels) with dy as an
 * H×W filter, evaluated at stride d. Five ops instead of ~4 per kernel tap.
 */
export function dilatedFilterGradConv(x: Tensor4D, dy: Tensor4D, wShape: readonly number[], rate: number): Tensor {
  const [kh, kw] = wShape as [number, number];
  const ph = (rate * (kh - 1)) / 2;
  const pw = (rate * (kw - 1)) / 2;
  const xp = tf.transpose(tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]), [3, 1, 2, 0]) as Tensor4D;
  const f = tf.transpose(dy, [1, 2, 0, 3]) as Tensor4D;
  const out = tf.conv2d(xp, f, rate, 'valid');
  return tf.transpose(out, [1, 2, 0, 3]);
}

/**
 * dW of a stride-1 dilated conv (TensorFlow's CPU Conv2DBackpropFilter refuses dilation): one
 * [N·H·W, Cin]ᵀ × [N·H·W, Cout] matmul per kernel tap on the shifted input. Taps that only ever
 * see padding (|offset| ≥ map size, common for large rates on small maps) get zeros for free.
 */
export function dilatedFilterGrad(x: Tensor4D, dy: Tensor4D, wShape: readonly number[], rate: number): Tensor {
  const [n, h, w, cin] = x.shape;
  const [kh, kw, , cout] = wShape as [number, number, number, number];
  const ph = (rate * (kh - 1)) / 2;
  const pw = (rate * (kw - 1)) / 2;
  const dyFlat = tf.reshape(dy, [n * h * w, cout]);
  const taps: Tensor[] = [];
  let padded: Tensor4D | undefined;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const oy = i * rate - ph;
      const ox = j * rate - pw;
      if (Math.abs(oy) >= h || Math.abs(ox) >= w) {
        taps.push(tf.zeros([cin, cout]));
        continue;
      }
      let shifted: Tensor4D;
      if (oy === 0 && ox === 0) shifted = x;
      else {
        padded ??= tf.pad(x, [[0, 0], [ph, ph], [pw, pw], [0, 0]]);
        shifted = tf.slice(padded, [0, oy + ph, ox + pw, 0], [n, h, w, cin]);
      }
      taps.push(tf.matMul(tf.reshape(shifted, [n * h * w, cin]), dyFlat, true, false));
    }
  }
  return tf.reshape(tf.stack(taps), [kh, kw, cin, cout]);
}
