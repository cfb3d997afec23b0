/**
 * The resume rule on real plugins: optimizer and scheduler options (not their type) and options a
 * plugin marks `x-resumable` (the adversarial trainers' loss weights) may change; the rest not.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinRegistry } from '../../src/plugin/bootstrap.js';
import { resumeChanges } from '../../src/engine/resume-changes.js';

const base = {
  model: { type: 'deeplabv2-resnet18', output_stride: 8 },
  optimizer: { type: 'sgd', lr: 0.00025, momentum: 0.9 },
  scheduler: { type: 'poly', power: 0.9 },
  losses: { seg: { type: 'ce2d' } },
  trainer: { type: 'adversarial-semi', lambda_adv: 0.01, lambda_semi: 0.1, t_semi: 0.2, iterations: 20000 },
  seed: 1,
};
const edit = (patch: (c: typeof base) => void) => {
  const c = structuredClone(base);
  patch(c);
  return c;
};

test('which changed keys a resume allows, on the built-in plugins', async () => {
  const registry = await builtinRegistry();
  const keys = (after: typeof base) => {
    const { allowed, refused } = resumeChanges(base, after, registry);
    return { allowed: allowed.map((c) => c.key), refused: refused.map((c) => c.key) };
  };
  assert.deepEqual(keys(edit((c) => ((c.optimizer.lr = 0.0001), (c.scheduler.power = 1)))), { allowed: ['optimizer.lr', 'scheduler.power'], refused: [] });
  assert.deepEqual(keys(edit((c) => ((c.trainer.lambda_adv = 0.001), (c.trainer.lambda_semi = 0.05)))), { allowed: ['trainer.lambda_adv', 'trainer.lambda_semi'], refused: [] });
  assert.deepEqual(keys(edit((c) => (c.trainer.t_semi = 0.1))), { allowed: [], refused: ['trainer.t_semi'] });
  assert.deepEqual(keys(edit((c) => (c.optimizer.type = 'adam'))), { allowed: [], refused: ['optimizer.type'] });
  assert.deepEqual(keys(edit((c) => (c.model.output_stride = 16))), { allowed: [], refused: ['model.output_stride'] });
  assert.deepEqual(keys(edit((c) => (c.seed = 2))), { allowed: [], refused: ['seed'] });
  assert.deepEqual(keys(edit((c) => (c.losses.seg.type = 'other'))), { allowed: [], refused: ['losses.seg.type'] });
});
