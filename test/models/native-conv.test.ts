/**
 * src/nn/native-conv.ts with TensorFlow's oneDNN ops ON (the default, and what training runs
 * with): dilated convs use TensorFlow's dilated Conv2DBackpropInput/Filter, padded strided convs
 * use EXPLICIT padding forward and 'VALID' backprops on the padded map. Forward, dX and dW are
 * compared with the portable lowerings on the cpu backend (space-to-batch, pad + 'valid').
 * The parity tests run with oneDNN off and so cover the other branch (flipped-filter dX, dW as a
 * strided conv). Skipped when the tensorflow addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, nn } from '../../src/index.js';
import type { Scalar, Tensor, Tensor4D } from '../../src/index.js';
import { selectBackend } from '../../src/runtime/index.js';
import { dilatedBackpropIsNative } from '../../src/nn/native-conv.js';
import { assertClose, on, seeded } from '../runtime/helpers.js';

let haveTf = true;
try {
  // deterministic: false keeps oneDNN on (this file must be its own process: TF reads it once).
  await selectBackend({ backend: 'tensorflow', deterministic: false, log: () => {} });
} catch {
  haveTf = false;
}
const skip = !haveTf && 'tensorflow addon not built';

/** Forward plus the gradients of sum(y·R) w.r.t. the chosen inputs. */
function body(xs: number[], ws: number[], spec: nn.ConvSpec, wrt: 'both' | 'x' | 'w'): () => Tensor[] {
  return () => {
    const x = seeded(xs, 1) as Tensor4D;
    const w = seeded(ws, 2).mul(0.3) as Tensor4D;
    const y = nn.conv2d(x, w, spec);
    const r = seeded(y.shape, 3);
    const loss = (a: Tensor, b: Tensor) => tf.sum(tf.mul(nn.conv2d(a as Tensor4D, b as Tensor4D, spec), r)) as Scalar;
    if (wrt === 'x') return [y, tf.grad((a: Tensor) => loss(a, w))(x)];
    if (wrt === 'w') return [y, tf.grad((b: Tensor) => loss(x, b))(w)];
    const [dx, dw] = tf.grads(loss)([x, w]);
    return [y, dx!, dw!];
  };
}

const CASES: { name: string; xs: number[]; ws: number[]; spec: nn.ConvSpec }[] = [
  { name: 'dilated 3×3 rate 2', xs: [2, 9, 9, 5], ws: [3, 3, 5, 4], spec: { padding: 2, dilation: 2 } },
  { name: 'dilated 3×3 rate 4 (odd sizes)', xs: [2, 9, 7, 3], ws: [3, 3, 3, 4], spec: { padding: 4, dilation: 4 } },
  { name: 'dilated 3×3 rate 12 (taps only in padding)', xs: [1, 9, 7, 3], ws: [3, 3, 3, 2], spec: { padding: 12, dilation: 12 } },
  { name: '4×4 stride 2 padding 1 (discriminator)', xs: [2, 16, 16, 5], ws: [4, 4, 5, 6], spec: { stride: 2, padding: 1 } },
  { name: '7×7 stride 2 padding 3 (stem)', xs: [2, 17, 15, 3], ws: [7, 7, 3, 4], spec: { stride: 2, padding: 3 } },
  { name: '3×3 stride 2 padding 1 (odd map)', xs: [2, 17, 17, 4], ws: [3, 3, 4, 5], spec: { stride: 2, padding: 1 } },
];

for (const c of CASES) {
  test(`native conv ${c.name}: forward, dX, dW equal the cpu lowering`, { skip }, async () => {
    const native = await on('tensorflow', body(c.xs, c.ws, c.spec, 'both'));
    const portable = await on('cpu', body(c.xs, c.ws, c.spec, 'both'));
    assertClose(native, portable, 1e-5, c.name);
  });
}

test('native conv + bias + leaky relu (discriminator layer): forward and dX, dW, dBias equal the cpu composition', { skip }, async () => {
  const spec = { stride: 2, padding: 1 };
  const body = () => {
    const x = seeded([2, 16, 16, 5], 1) as Tensor4D;
    const w = seeded([4, 4, 5, 6], 2).mul(0.3) as Tensor4D;
    const b = seeded([6], 4);
    const f = (a: Tensor, ww: Tensor, bb: Tensor) => nn.leakyRelu(nn.conv2d(a as Tensor4D, ww as Tensor4D, spec, bb), 0.2);
    const y = f(x, w, b);
    const r = seeded(y.shape, 3);
    const [dx, dw, db] = tf.grads((a: Tensor, ww: Tensor, bb: Tensor) => tf.sum(tf.mul(f(a, ww, bb), r)) as Scalar)([x, w, b]);
    return [y, dx!, dw!, db!];
  };
  assertClose(await on('tensorflow', body), await on('cpu', body), 1e-5, 'conv+bias+leaky');
});

test('dilated native conv with bias (classifier branch): forward, dX, dW, dBias equal the cpu lowering', { skip }, async () => {
  const spec = { padding: 3, dilation: 3 };
  const body = () => {
    const x = seeded([2, 9, 9, 5], 1) as Tensor4D;
    const w = seeded([3, 3, 5, 4], 2).mul(0.3) as Tensor4D;
    const b = seeded([4], 4);
    const y = nn.conv2d(x, w, spec, b);
    const r = seeded(y.shape, 3);
    const [dx, dw, db] = tf.grads((a: Tensor, ww: Tensor, bb: Tensor) => tf.sum(tf.mul(nn.conv2d(a as Tensor4D, ww as Tensor4D, spec, bb), r)) as Scalar)([x, w, b]);
    return [y, dx!, dw!, db!];
  };
  assertClose(await on('tensorflow', body), await on('cpu', body), 1e-5, 'dilated conv+bias');
});

test('native conv: only the requested input gradient is computed, and it is the same', { skip }, async () => {
  const spec = { stride: 2, padding: 1 };
  const both = await on('tensorflow', body([2, 16, 16, 5], [4, 4, 5, 6], spec, 'both'));
  const onlyX = await on('tensorflow', body([2, 16, 16, 5], [4, 4, 5, 6], spec, 'x'));
  const onlyW = await on('tensorflow', body([2, 16, 16, 5], [4, 4, 5, 6], spec, 'w'));
  assertClose([onlyX[1]!], [both[1]!], 0, 'dX alone');
  assertClose([onlyW[1]!], [both[2]!], 0, 'dW alone');
});

test('with oneDNN on, the dilated backprops are TensorFlow’s own (not the fallback)', { skip }, async () => {
  await on('tensorflow', body([1, 9, 9, 2], [3, 3, 2, 2], { padding: 2, dilation: 2 }, 'both'));
  assert.equal(dilatedBackpropIsNative(), true, 'TensorFlow refused dilated Conv2DBackpropFilter/Input with oneDNN on: the slower fallback ran');
});

test('nativeConv2d refuses a dilated conv whose padding is not dilation·(k−1)/2', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: () => {} });
  const ops = nn.nativeOps();
  assert.ok(ops, 'native ops on tensorflow');
  const x = tf.zeros([1, 9, 9, 1]) as Tensor4D;
  const w = tf.zeros([3, 3, 1, 1]) as Tensor4D;
  assert.throws(() => ops.conv2d(x, w, { stride: 1, padding: 1, dilation: 2 }), /dilation 2 needs stride 1/);
  tf.dispose([x, w]);
});
