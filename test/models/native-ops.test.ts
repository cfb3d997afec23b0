/**
 * The tfjs-node fused paths (src/nn/native.ts) against the portable compositions: dilated conv
 * (including taps that only see padding: rate ≥ map size), train-mode batch norm with its running
 * statistics, and relu — forward and gradients. Skipped when the tensorflow addon is not built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, nn } from '../../src/index.js';
import type { Scalar, Tensor, Tensor4D } from '../../src/index.js';
import { selectBackend, type BackendName } from '../../src/runtime/index.js';
import { dilatedFilterGrad, dilatedFilterGradConv } from '../../src/nn/native.js';
import { relErr } from '../support/numeric.js';

let haveTf = true;
try {
  await selectBackend({ backend: 'tensorflow', deterministic: true, log: () => {} });
} catch {
  haveTf = false;
}

/** Runs fn on a backend; returns every output and gradient as arrays. */
async function run(backend: BackendName, fn: () => Tensor[]): Promise<Float32Array[]> {
  await selectBackend({ backend, deterministic: true, log: () => {} });
  const outs = tf.tidy(fn);
  const data = outs.map((t) => Float32Array.from(t.dataSync()));
  tf.dispose(outs);
  return data;
}

const lcg = (n: number, seed: number) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0), s / 2 ** 31 - 1));
};

for (const [h, w, rate] of [
  [9, 9, 2],
  [9, 9, 6],
  [9, 7, 12],
  [5, 11, 4],
] as const) {
  test(`dilated conv ${h}×${w} rate ${rate}: tensorflow native = space-to-batch on cpu (fwd, dX, dW)`, { skip: !haveTf && 'tensorflow addon not built' }, async () => {
    const xs = lcg(2 * h * w * 5, 1);
    const ws = lcg(3 * 3 * 5 * 4, 2);
    const r = lcg(2 * h * w * 4, 3);
    const body = () => {
      const x = tf.tensor4d(xs, [2, h, w, 5]);
      const k = tf.tensor4d(ws, [3, 3, 5, 4]);
      const rr = tf.tensor4d(r, [2, h, w, 4]);
      const f = (a: Tensor, b: Tensor) => tf.sum(tf.mul(nn.conv2d(a as Tensor4D, b as Tensor4D, { padding: rate, dilation: rate }), rr)) as Scalar;
      const y = nn.conv2d(x, k, { padding: rate, dilation: rate });
      const [dx, dw] = tf.grads(f)([x, k]);
      return [y, dx!, dw!];
    };
    const native = await run('tensorflow', body);
    const portable = await run('cpu', body);
    ['forward', 'dX', 'dW'].forEach((what, i) => {
      const e = relErr(native[i]!, portable[i]!);
      assert.ok(e < 1e-5, `${what}: relative error ${e.toExponential(2)}`);
    });
  });
}

test('batch norm (train) and relu: tensorflow fused ops = composition on cpu, incl. running stats', { skip: !haveTf && 'tensorflow addon not built' }, async () => {
  const xs = lcg(3 * 4 * 5 * 6, 4);
  const r = lcg(3 * 4 * 5 * 6, 5);
  const body = () => {
    const store = new nn.ParamStore(`bn-${tf.getBackend()}`, 1);
    const bn = new nn.BatchNorm2d(store, 'bn', 6, { affine: 'trainable', statistics: 'batch', momentum: 0.1, eps: 1e-5 });
    bn.weight.assign(tf.tensor1d([0.5, 1, 1.5, 2, -1, 0.3]));
    bn.bias.assign(tf.tensor1d([0, 0.1, -0.2, 0.3, 0.4, -0.5]));
    const x = tf.variable(tf.tensor4d(xs, [3, 4, 5, 6]).mul(3).add(1), true, `x-${tf.getBackend()}`);
    const rr = tf.tensor4d(r, [3, 4, 5, 6]);
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(nn.relu(bn.apply(x as unknown as Tensor4D, true)), rr)) as Scalar, [x, bn.weight, bn.bias]);
    const out = [value, grads[x.name]!, grads[bn.weight.name]!, grads[bn.bias.name]!, bn.runningMean.clone(), bn.runningVar.clone()];
    x.dispose();
    store.dispose();
    return out;
  };
  const native = await run('tensorflow', body);
  const portable = await run('cpu', body);
  ['loss', 'dX', 'dγ', 'dβ', 'running_mean', 'running_var'].forEach((what, i) => {
    const e = relErr(native[i]!, portable[i]!);
    assert.ok(e < 1e-4, `${what}: relative error ${e.toExponential(2)}`);
  });
});

test('both dW lowerings (per-tap matmuls, one strided conv) agree with each other', { skip: !haveTf && 'tensorflow addon not built' }, async () => {
  const [a, b] = await run('tensorflow', () => {
    const x = tf.tensor4d(lcg(2 * 7 * 6 * 3, 6), [2, 7, 6, 3]);
    const dy = tf.tensor4d(lcg(2 * 7 * 6 * 4, 7), [2, 7, 6, 4]);
    return [dilatedFilterGrad(x, dy, [3, 3, 3, 4], 2), dilatedFilterGradConv(x, dy, [3, 3, 3, 4], 2)];
  });
  assert.ok(relErr(a!, b!) < 1e-5);
});

test('softmax cross-entropy: one fused TensorFlow op = −Σ logSoftmax·oneHot on cpu (value and d/d logits)', { skip: !haveTf && 'tensorflow addon not built' }, async () => {
  const xs = lcg(2 * 3 * 4 * 5, 8).map((v) => 4 * v);
  const ls = Int32Array.from(lcg(2 * 3 * 4, 9), (v) => Math.floor((v + 1) * 2.5) % 5);
  const ws = lcg(2 * 3 * 4, 10);
  const body = () => {
    const logits = tf.tensor4d(xs, [2, 3, 4, 5]);
    const labels = tf.tensor3d(ls, [2, 3, 4], 'int32');
    const w = tf.tensor3d(ws, [2, 3, 4]);
    const ce = nn.softmaxCrossEntropy(logits, labels);
    const g = tf.grad((x: Tensor) => tf.sum(tf.mul(nn.softmaxCrossEntropy(x, labels), w)) as Scalar)(logits);
    return [ce, g];
  };
  const native = await run('tensorflow', body);
  const portable = await run('cpu', body);
  ['ce', 'd/d logits'].forEach((what, i) => {
    const e = relErr(native[i]!, portable[i]!);
    assert.ok(e < 1e-5, `${what}: relative error ${e.toExponential(2)}`);
  });
});
