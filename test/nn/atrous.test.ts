import assert from 'node:assert/strict';
import { test } from 'node:test';
import { atrousConv2d, atrousOutputSize } from '../../src/nn/atrous.js';
import { tf } from '../../src/runtime/tf.js';
import type { Tensor, Tensor4D } from '../../src/runtime/tf.js';
import { assertClose, availableBackends, on, seeded } from '../runtime/helpers.js';
import { relErr } from '../support/numeric.js';

/** Direct definition of PyTorch's Conv2d(padding=p, dilation=d), NHWC/HWIO, on plain arrays. */
function naiveDilated(x: ArrayLike<number>, xs: number[], w: ArrayLike<number>, ws: number[], d: number, p: number): { y: Float64Array; shape: number[] } {
  const [n, h, wd, cin] = xs as [number, number, number, number];
  const [kh, kw, , cout] = ws as [number, number, number, number];
  const oh = h + 2 * p - d * (kh - 1);
  const ow = wd + 2 * p - d * (kw - 1);
  const y = new Float64Array(n * oh * ow * cout); // float64 so the numeric gradient is exact enough
  for (let b = 0; b < n; b++)
    for (let r = 0; r < oh; r++)
      for (let c = 0; c < ow; c++)
        for (let o = 0; o < cout; o++) {
          let s = 0;
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const rr = r - p + i * d;
              const cc = c - p + j * d;
              if (rr < 0 || rr >= h || cc < 0 || cc >= wd) continue;
              for (let q = 0; q < cin; q++) s += x[((b * h + rr) * wd + cc) * cin + q]! * w[((i * kw + j) * cin + q) * cout + o]!;
            }
          y[((b * oh + r) * ow + c) * cout + o] = s;
        }
  return { y, shape: [n, oh, ow, cout] };
}

const cases = [
  { xs: [1, 7, 6, 2], ws: [3, 3, 2, 3], rate: 2 }, // padded size not divisible by the rate
  { xs: [2, 9, 9, 2], ws: [3, 3, 2, 2], rate: 3 },
  { xs: [1, 8, 8, 3], ws: [3, 3, 3, 2], rate: 4 }, // rate close to the image size
  { xs: [1, 5, 6, 2], ws: [3, 3, 2, 2], rate: 1 },
  { xs: [1, 6, 7, 2], ws: [1, 1, 2, 3], rate: 2 },
];

test('atrousOutputSize matches PyTorch for odd kernels (same size)', () => {
  assert.deepEqual(atrousOutputSize(65, 65, [3, 3], 12), [65, 65]);
  assert.deepEqual(atrousOutputSize(7, 6, [3, 3], 2), [7, 6]);
  assert.deepEqual(atrousOutputSize(8, 8, [4, 4], 2), [8, 8]); // even kernel: padding floor(2*3/2) = 3
  assert.deepEqual(atrousOutputSize(8, 8, [2, 2], 1), [7, 7]); // padding floor(1/2) = 0
});

test('atrousConv2d forward equals a naive dilated convolution on every backend', async () => {
  for (const backend of await availableBackends()) {
    for (const c of cases) {
      const [y] = await on(backend, () => atrousConv2d(seeded(c.xs, 1) as Tensor4D, seeded(c.ws, 2) as Tensor4D, c.rate));
      const xv = Float32Array.from(seeded(c.xs, 1).dataSync());
      const wv = Float32Array.from(seeded(c.ws, 2).dataSync());
      const ref = naiveDilated(xv, c.xs, wv, c.ws, c.rate, Math.floor((c.rate * (c.ws[0]! - 1)) / 2));
      assert.equal(y!.length, ref.y.length, `${backend} rate ${c.rate}: output size`);
      const e = relErr(y!, Float32Array.from(ref.y));
      assert.ok(e < 1e-5, `${backend} x${c.xs} w${c.ws} rate ${c.rate}: relative error ${e}`);
    }
  }
});

test('atrousConv2d adds the bias and rejects bad arguments', async () => {
  const [withBias, without] = await on('cpu', () => {
    const x = seeded([1, 5, 5, 2], 3) as Tensor4D;
    const w = seeded([3, 3, 2, 2], 4) as Tensor4D;
    return [atrousConv2d(x, w, 2, { bias: tf.tensor1d([1, -2]) }), atrousConv2d(x, w, 2)];
  });
  for (let i = 0; i < without!.length; i++) assert.ok(Math.abs(withBias![i]! - without![i]! - (i % 2 === 0 ? 1 : -2)) < 1e-6);
  const x = seeded([1, 5, 5, 2], 3) as Tensor4D;
  assert.throws(() => atrousConv2d(x, seeded([3, 3, 2, 2], 4) as Tensor4D, 0), /rate must be a positive integer/);
  assert.throws(() => atrousConv2d(x, seeded([3, 3, 3, 2], 4) as Tensor4D, 2), /2 channels but the filter expects 3/);
  tf.dispose(x);
});

test('atrousConv2d gradients equal a numeric gradient (cpu, and tensorflow when it loads)', async () => {
  const backends = (await availableBackends()).filter((b) => b !== 'wasm');
  for (const backend of backends) {
    for (const c of cases.slice(0, 3)) {
      const r = seeded([c.xs[0]!, ...atrousOutputSize(c.xs[1]!, c.xs[2]!, [c.ws[0]!, c.ws[1]!], c.rate), c.ws[3]!], 5);
      const loss = (x: Tensor, w: Tensor, b: Tensor) =>
        tf.sum(tf.mul(tf.square(atrousConv2d(x as Tensor4D, w as Tensor4D, c.rate, { bias: b as tf.Tensor1D })), r));
      const [gx, gw, gb] = await on(backend, () =>
        tf.grads(loss)([seeded(c.xs, 1), seeded(c.ws, 2), seeded([c.ws[3]!], 6)]),
      );
      // Central differences in float64 of the same loss computed by the naive definition.
      const xv = Float64Array.from(seeded(c.xs, 1).dataSync());
      const wv = Float64Array.from(seeded(c.ws, 2).dataSync());
      const bv = Float64Array.from(seeded([c.ws[3]!], 6).dataSync());
      const rv = r.dataSync();
      const p = Math.floor((c.rate * (c.ws[0]! - 1)) / 2);
      const L = (): number => {
        const { y } = naiveDilated(xv, c.xs, wv, c.ws, c.rate, p);
        let s = 0;
        for (let i = 0; i < y.length; i++) {
          const v = y[i]! + bv[i % bv.length]!;
          s += v * v * rv[i]!;
        }
        return s;
      };
      const numeric = (arr: Float64Array): Float32Array => {
        const g = new Float32Array(arr.length);
        const eps = 1e-2;
        for (let i = 0; i < arr.length; i++) {
          const v = arr[i]!;
          arr[i] = v + eps;
          const lp = L();
          arr[i] = v - eps;
          const lm = L();
          arr[i] = v;
          g[i] = (lp - lm) / (2 * eps);
        }
        return g;
      };
      assertClose([gx!, gw!, gb!], [numeric(xv), numeric(wv), numeric(bv)], 1e-3, `${backend} x${c.xs} rate ${c.rate} grads (x, w, b)`);
    }
  }
});

test('atrousConv2d trains on wasm too (composed Conv2DBackpropFilter), matching cpu gradients', async () => {
  const f = () => {
    const loss = (x: Tensor, w: Tensor) => tf.sum(tf.square(atrousConv2d(x as Tensor4D, w as Tensor4D, 2)));
    return tf.grads(loss)([seeded([1, 7, 6, 2], 1), seeded([3, 3, 2, 3], 2)]);
  };
  assertClose(await on('wasm', f), await on('cpu', f), 1e-5, 'wasm vs cpu');
});
