import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf, type Loss, type Tensor } from '../../src/index.js';
import { backends, create, fixture, flatten, shapeOf, useBackend } from '../trainers/support.js';
import { assertClose as assertCloseTo, UNIT_SCALE } from '../support/numeric.js';

// These fixtures hold values of order 1 and below: errors below 1 count absolutely (UNIT_SCALE).
const assertClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) => assertCloseTo(actual, expected, tol, what, UNIT_SCALE);

interface LossFixtures {
  ce2d: { logits: number[][][][]; labels: number[][][]; loss: number; grad: number[][][][] };
  bce_adv: { logits: number[][][][] } & Record<'real_ignore' | 'fake_no_ignore', { target: number; ignore: number[][][]; loss: number; grad: number[][][][] }>;
  semi_masked_ce: { logits: number[][][][]; d_logits: number[][][][]; threshold: number; loss: number; ratio: number; grad: number[][][][] };
}

const fx = fixture<LossFixtures>('losses.json');
const t4 = (x: number[][][][]) => tf.tensor(flatten(x), shapeOf(x), 'float32');
const i3 = (x: number[][][]) => tf.tensor(flatten(x), shapeOf(x), 'int32');

/** Loss value and its gradient with respect to `wrt`, as arrays. */
function valueAndGrad(fn: (x: Tensor) => tf.Scalar, wrt: Tensor): { value: number; grad: Float32Array } {
  return tf.tidy(() => {
    const { value, grad } = tf.valueAndGrad(fn)(wrt);
    return { value: value.dataSync()[0]!, grad: grad.dataSync() as Float32Array };
  });
}

for (const backend of await backends()) {
  test(`ce2d matches PyTorch cross_entropy(ignore_index=255) [${backend}]`, async () => {
    await useBackend(backend);
    const loss = (await create('loss', 'ce2d')) as Loss;
    const before = tf.memory().numTensors;
    const labels = i3(fx.ce2d.labels);
    const logits = t4(fx.ce2d.logits);
    const r = valueAndGrad((x) => loss.compute({ logits: x, labels }).loss, logits);
    assert.ok(Math.abs(r.value - fx.ce2d.loss) < 1e-5, `loss ${r.value} vs ${fx.ce2d.loss}`);
    assertClose(r.grad, flatten(fx.ce2d.grad), 1e-5, 'd loss / d logits');
    tf.dispose([labels, logits]);
    assert.equal(tf.memory().numTensors, before, 'no tensor leaked');
  });

  test(`ce2d with every pixel ignored is 0 with a zero gradient [${backend}]`, async () => {
    await useBackend(backend);
    const loss = (await create('loss', 'ce2d')) as Loss;
    const labels = tf.fill([1, 2, 2], 255, 'int32');
    const r = valueAndGrad((x) => loss.compute({ logits: x, labels }).loss, tf.randomNormal([1, 2, 2, 3]));
    assert.equal(r.value, 0);
    assert.ok(r.grad.every((g) => g === 0));
  });

  for (const name of ['real_ignore', 'fake_no_ignore'] as const) {
    test(`bce_adv matches BCEWithLogitsLoss2d, ${name} [${backend}]`, async () => {
      await useBackend(backend);
      const loss = (await create('loss', 'bce_adv')) as Loss;
      const c = fx.bce_adv[name];
      const ignoreMask = i3(c.ignore).cast('bool');
      const r = valueAndGrad((x) => loss.compute({ discriminatorLogits: x, target: c.target, ignoreMask }).loss, t4(fx.bce_adv.logits));
      assert.ok(Math.abs(r.value - c.loss) < 1e-5, `loss ${r.value} vs ${c.loss}`);
      assertClose(r.grad, flatten(c.grad), 1e-5, 'd loss / d logits');
    });
  }

  test(`bce_adv gradient at logit 0 is sigmoid(0) − t [${backend}]`, async () => {
    await useBackend(backend);
    const loss = (await create('loss', 'bce_adv')) as Loss;
    const r = valueAndGrad((x) => loss.compute({ discriminatorLogits: x, target: 1 }).loss, tf.zeros([1, 1, 2, 1]));
    assert.ok(Math.abs(r.value - Math.log(2)) < 1e-6);
    for (const g of r.grad) assert.ok(Math.abs(g - (0.5 - 1) / 2) < 1e-6, `grad ${g}`);
  });

  test(`bce_adv real_label_smoothing lowers the real target only [${backend}]`, async () => {
    await useBackend(backend);
    const smooth = (await create('loss', 'bce_adv', { real_label_smoothing: 0.1 })) as Loss;
    const x = tf.tensor4d([2], [1, 1, 1, 1]);
    const real = smooth.compute({ discriminatorLogits: x, target: 1 }).loss.dataSync()[0]!;
    const fake = smooth.compute({ discriminatorLogits: x, target: 0 }).loss.dataSync()[0]!;
    const sp = (v: number) => Math.log1p(Math.exp(v));
    assert.ok(Math.abs(real - (0.9 * sp(-2) + 0.1 * sp(2))) < 1e-6);
    assert.ok(Math.abs(fake - sp(2)) < 1e-6);
  });

  test(`semi_masked_ce matches the reference pseudo-label CE [${backend}]`, async () => {
    await useBackend(backend);
    const loss = (await create('loss', 'semi_masked_ce')) as Loss;
    const s = fx.semi_masked_ce;
    const d = t4(s.d_logits);
    let ratio = Number.NaN;
    let signal = Number.NaN;
    const r = valueAndGrad((x) => {
      const out = loss.compute({ logits: x, discriminatorLogits: d, threshold: s.threshold });
      ratio = (out.stats!.semi_ratio as tf.Scalar).dataSync()[0]!;
      signal = out.signal!.dataSync()[0]!;
      return out.loss;
    }, t4(s.logits));
    assert.ok(Math.abs(r.value - s.loss) < 1e-5, `loss ${r.value} vs ${s.loss}`);
    assert.ok(Math.abs(ratio - s.ratio) < 1e-6, `ratio ${ratio} vs ${s.ratio}`);
    assert.equal(signal, 1);
    assertClose(r.grad, flatten(s.grad), 1e-5, 'd loss / d logits');
  });

  test(`semi_masked_ce with nothing confident has no signal [${backend}]`, async () => {
    await useBackend(backend);
    const loss = (await create('loss', 'semi_masked_ce', { threshold: 1 })) as Loss;
    const out = loss.compute({ logits: t4(fx.semi_masked_ce.logits), discriminatorLogits: t4(fx.semi_masked_ce.d_logits) });
    assert.equal(out.signal!.dataSync()[0], 0);
    assert.equal((out.stats!.semi_ratio as tf.Scalar).dataSync()[0], 0);
    assert.equal(out.loss.dataSync()[0], 0);
  });
}

test('a loss given the wrong inputs names the loss and the input', async () => {
  const loss = (await create('loss', 'ce2d')) as Loss;
  assert.throws(() => loss.compute({ logits: tf.zeros([1, 1, 1, 2]) }), /loss 'ce2d' needs a tensor input 'labels'/);
});
