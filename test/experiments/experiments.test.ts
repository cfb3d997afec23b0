// The experiments are the product: every file validates, and every ablation step differs from its
// predecessor in exactly the keys it claims to change (checked through `ablate diff --json`, the
// same view a researcher reads).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ablate, ensureBuilt } from '../support/cli.js';

interface DiffJson {
  changed: { key: string; a: unknown; b: unknown }[];
  added: { key: string; value?: unknown; b?: unknown }[];
  removed: { key: string; value?: unknown; a?: unknown }[];
}

function diff(a: string, b: string): DiffJson {
  const r = ablate(['diff', '--json', `experiments/${a}.yaml`, `experiments/${b}.yaml`]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as DiffJson;
}

/** Top-level-ish keys touched by a diff, e.g. `dataset.normalize` for `dataset.normalize.mean`. */
function touched(d: DiffJson, depth = 2): string[] {
  const keys = [...d.changed, ...d.added, ...d.removed].map((e) => e.key.split('.').slice(0, depth).join('.'));
  return [...new Set(keys)].sort();
}

test('every experiment file validates', () => {
  ensureBuilt();
  const r = ablate(['validate', 'experiments']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /file\(s\) valid/);
});

for (const dataset of ['voc', 'cityscapes', 'mini-voc']) {
  test(`${dataset}: base-101 → base-104 is the reproduction's ablation, one knob group per step`, () => {
    ensureBuilt();
    // base-101: no input normalisation, drop-last batches, poly every 10 iterations, one lr for all
    // layers, learnable transposed-convolution upsampling (BN affine is frozen in the baseline too).
    // mini-VOC trains BN affine from scratch, so there base-101's frozen BN is a change too.
    const bn = dataset === 'mini-voc' ? ['model.bn'] : [];
    assert.deepEqual(
      touched(diff(`${dataset}/baseline`, `${dataset}/base-101`)),
      ['dataset.drop_last', 'dataset.normalize', 'model.classifier_lr_multiplier', ...bn, 'model.upsampling', 'scheduler.every'].sort(),
    );
    // base-102: fixed bilinear upsampling, no poly decay.
    const d102 = diff(`${dataset}/base-101`, `${dataset}/base-102`);
    assert.deepEqual(touched(d102, 1), ['model', 'scheduler']);
    assert.deepEqual(d102.changed.map((c) => [c.key, c.b]).sort(), [['model.upsampling', 'bilinear'], ['scheduler.type', 'constant']]);
    // base-103: poly decay again, every 10 iterations.
    const d103 = diff(`${dataset}/base-102`, `${dataset}/base-103`);
    assert.deepEqual(touched(d103, 1), ['scheduler']);
    assert.deepEqual(d103.changed.map((c) => [c.key, c.b]), [['scheduler.type', 'poly']]);
    // base-104: poly decay every iteration, and nothing else.
    assert.deepEqual(diff(`${dataset}/base-103`, `${dataset}/base-104`).changed.map((c) => [c.key, c.a, c.b]), [['scheduler.every', 10, 1]]);
    assert.deepEqual(touched(diff(`${dataset}/base-103`, `${dataset}/base-104`)), ['scheduler.every']);
  });

  test(`${dataset}: the paper's rows add the adversarial, then the semi-supervised parts`, () => {
    ensureBuilt();
    const adv = touched(diff(`${dataset}/baseline`, `${dataset}/adv`), 1);
    assert.deepEqual(adv, ['discriminator', 'discriminator_optimizer', 'discriminator_scheduler', 'losses', 'trainer']);
    const semi = diff(`${dataset}/adv`, `${dataset}/adv-semi`);
    assert.deepEqual(touched(semi, 1), ['dataset', 'losses', 'trainer']);
    assert.deepEqual(touched(diff(`${dataset}/adv-semi`, `${dataset}/adv-semi-released`)), ['model.rates']);
  });
}
