/**
 * deeplabv2 / fcdisc plugin behaviour beyond numeric parity: the released ResNet-101 naming,
 * output stride 8, parameter groups, BN policies, pretrained loading and its errors. Runs on the
 * cpu backend with tiny widths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, weights, AblateError } from '../../src/index.js';
import type { BuildContext, Tensor4D } from '../../src/index.js';
import { selectBackend } from '../../src/runtime/index.js';
import { deeplabv2Model, DeepLabV2, type DeepLabV2Options } from '../../plugins/models/deeplabv2/index.js';
import { fcdiscDiscriminator } from '../../plugins/methods/adversarial/fcdisc.js';

await selectBackend({ backend: 'cpu', log: () => {} });
const FIXTURES = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'parity');

const logs: string[] = [];
function ctx(slot: string, baseDir = process.cwd()): BuildContext {
  const fail = () => Promise.reject(new Error('not available in this test'));
  return {
    slot,
    seed: 7,
    runDir: undefined,
    baseDir,
    log: { info: (m) => logs.push(m), warn: (m) => logs.push(`warn: ${m}`), debug: () => {} },
    target: fail,
    get: fail,
    has: () => false,
    build: fail,
  };
}

function opts(over: Partial<DeepLabV2Options> = {}): DeepLabV2Options {
  return {
    depth: 18,
    base_width: 2,
    num_classes: 3,
    rates: [6, 12],
    bn: { affine: 'frozen', statistics: 'batch', momentum: 0.1, eps: 1e-5 },
    upsampling: 'bilinear',
    pretrained: null,
    pretrained_strip_prefix: '',
    classifier_lr_multiplier: 10,
    ...over,
  };
}

test('ResNet-101 state-dict names and shapes equal the released PyTorch model (4 branches)', async () => {
  const ref = JSON.parse(readFileSync(path.join(FIXTURES, 'deeplabv2_r101_w8_names.json'), 'utf8')) as [string, number[]][];
  const expected = ref.filter(([n]) => !n.endsWith('num_batches_tracked'));
  const m = (await deeplabv2Model.create(opts({ depth: 101, base_width: 8, num_classes: 21, rates: [6, 12, 18, 24] }), ctx('model'))) as DeepLabV2;
  try {
    const sd = m.stateDict();
    assert.deepEqual([...sd.keys()].sort(), expected.map(([n]) => n).sort());
    for (const [name, shape] of expected) assert.deepEqual(sd.get(name)!.shape, weights.tfjsShapeOf(shape), name);
    assert.ok(sd.has('layer3.22.conv3.weight') && sd.has('layer5.conv2d_list.3.bias') && sd.has('layer4.0.downsample.1.running_var'));
    assert.equal(sd.get('conv1.weight')!.name, 'model/conv1.weight', 'variables are named <slot>/<state-dict name>');
  } finally {
    m.dispose();
  }
});

test('output stride 8 (65 → 9, 321 → 41 by the layer formulas) and logits at input size', async () => {
  const m = new DeepLabV2(opts(), 'model', 1);
  try {
    const x = tf.zeros([1, 65, 65, 3]) as Tensor4D;
    assert.deepEqual(m.logits(x, false).shape, [1, 9, 9, 3]);
    assert.deepEqual(m.apply(x, { training: false }).shape, [1, 65, 65, 3]);
    const y = m.apply(tf.zeros([1, 40, 50, 3]) as Tensor4D, { training: true });
    assert.deepEqual(y.shape, [1, 40, 50, 3]);
  } finally {
    m.dispose();
  }
});

test('parameter groups: backbone 1×, classifier 10×; frozen BN affine is in no group', () => {
  const frozen = new DeepLabV2(opts(), 'model', 1);
  const trainable = new DeepLabV2(opts({ bn: { affine: 'trainable', statistics: 'batch', momentum: 0.1, eps: 1e-5 }, upsampling: 'transposed' }), 'model2', 1);
  try {
    const g = frozen.parameterGroups();
    assert.deepEqual(g.map((x) => [x.name, x.lrMultiplier]), [['backbone', 1], ['classifier', 10]]);
    assert.ok(g[0]!.variables.every((v) => v.name.endsWith('.weight') && !/bn|downsample\.1/.test(v.name)));
    assert.deepEqual(g[1]!.variables.map((v) => v.name), ['model/layer5.conv2d_list.0.weight', 'model/layer5.conv2d_list.0.bias', 'model/layer5.conv2d_list.1.weight', 'model/layer5.conv2d_list.1.bias']);
    const g2 = trainable.parameterGroups();
    assert.deepEqual(g2.map((x) => x.name), ['backbone', 'classifier', 'upsampling']);
    assert.ok(g2[0]!.variables.some((v) => v.name === 'model2/bn1.weight'));
    assert.equal(g2[2]!.variables.length, 6);
  } finally {
    frozen.dispose();
    trainable.dispose();
  }
});

test('BN statistics: batch updates running stats in training only; frozen never does', async () => {
  for (const statistics of ['batch', 'frozen'] as const) {
    const m = new DeepLabV2(opts({ bn: { affine: 'frozen', statistics, momentum: 0.1, eps: 1e-5 } }), 'model', 1);
    try {
      const rm = m.stateDict().get('bn1.running_mean')!;
      const before = [...rm.dataSync()];
      const x = tf.randomNormal([2, 33, 33, 3], 3, 1, 'float32', 1) as Tensor4D;
      m.apply(x, { training: false });
      assert.deepEqual([...rm.dataSync()], before, 'eval never updates');
      m.apply(x, { training: true });
      const after = [...rm.dataSync()];
      if (statistics === 'batch') assert.notDeepEqual(after, before);
      else assert.deepEqual(after, before);
    } finally {
      m.dispose();
    }
  }
});

test('pretrained: loads a saved model exactly; wrong files fail with located errors', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-deeplab-'));
  const src = new DeepLabV2(opts(), 'src', 3);
  try {
    weights.saveSafetensors(path.join(dir, 'w.safetensors'), src.stateDict());
    const m = (await deeplabv2Model.create(opts({ pretrained: 'w.safetensors' }), ctx('model', dir))) as DeepLabV2;
    try {
      const x = tf.randomNormal([1, 33, 33, 3], 0, 1, 'float32', 2) as Tensor4D;
      assert.deepEqual([...m.apply(x, { training: false }).dataSync()], [...src.apply(x, { training: false }).dataSync()]);
      assert.ok(logs.some((l) => /loaded \d+ tensors/.test(l)));
    } finally {
      m.dispose();
    }
    await assert.rejects(Promise.resolve().then(() => deeplabv2Model.create(opts({ pretrained: 'nope.safetensors' }), ctx('model', dir))), (e: unknown) => e instanceof AblateError && e.code === 'weights.missing-file');
    // A file for another network (the discriminator): nothing matches → a clear error naming the key.
    const d = await fcdiscDiscriminator.create({ ndf: 2, num_classes: 3, leaky_slope: 0.2, lr_multiplier: 1 }, ctx('d'));
    weights.saveSafetensors(path.join(dir, 'd.safetensors'), d.stateDict());
    d.dispose();
    await assert.rejects(
      Promise.resolve().then(() => deeplabv2Model.create(opts({ pretrained: 'd.safetensors' }), ctx('model', dir))),
      (e: unknown) => e instanceof AblateError && e.code === 'weights.nothing-loaded' && e.where?.key === 'model.pretrained',
    );
  } finally {
    src.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('fcdisc: released names, 1/32 logits upsampled to the input size', async () => {
  const d = await fcdiscDiscriminator.create({ ndf: 2, num_classes: 3, leaky_slope: 0.2, lr_multiplier: 1 }, ctx('discriminator'));
  try {
    assert.deepEqual([...d.stateDict().keys()], ['conv1.weight', 'conv1.bias', 'conv2.weight', 'conv2.bias', 'conv3.weight', 'conv3.bias', 'conv4.weight', 'conv4.bias', 'classifier.weight', 'classifier.bias']);
    assert.deepEqual(d.stateDict().get('conv2.weight')!.shape, [4, 4, 2, 4]);
    assert.deepEqual(d.apply(tf.zeros([2, 70, 64, 3]) as Tensor4D, { training: true }).shape, [2, 70, 64, 1]);
    assert.equal(d.parameterGroups()[0]!.variables.length, 10);
  } finally {
    d.dispose();
  }
});
