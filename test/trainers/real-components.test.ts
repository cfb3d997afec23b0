import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf, type Network } from '../../src/index.js';
import { assemble, backends, useBackend } from './support.js';
import { batchSource, fixtureDataset, randomBatches } from './tiny-plugins.js';

// The trainers with the built-in deeplabv2 and fcdisc (tiny widths), poly schedules and the three
// losses: their contracts fit together, every scalar is finite and no tensor leaks.
test('adversarial-semi with deeplabv2 + fcdisc: runs, finite scalars, constant live tensors', async () => {
  // The native backend when it loads (a ResNet is slow on the pure-JS cpu backend), else cpu.
  await useBackend((await backends()).at(-1)!);
  batchSource.make = randomBatches(33, 33, 3);
  const c = assemble(
    {
      seed: 0,
      model: { type: 'deeplabv2', depth: 18, base_width: 4, num_classes: 3, rates: [6, 12] },
      discriminator: { type: 'fcdisc', ndf: 4, num_classes: 3 },
      optimizer: { type: 'sgd' },
      scheduler: { type: 'poly', lr: 1e-3, max_iterations: 4 },
      discriminator_optimizer: { type: 'adam' },
      discriminator_scheduler: { type: 'poly', lr: 1e-4, max_iterations: 4 },
      losses: { seg: { type: 'ce2d' }, adv: { type: 'bce_adv' }, semi: { type: 'semi_masked_ce' } },
      dataset: { type: 'test-batches', num_classes: 3 },
      trainer: { type: 'adversarial-semi', iterations: 4, batch_size: 2, semi_start: 1, t_semi: 0.3 },
    },
    [fixtureDataset],
  );
  const trainer = await c.get('trainer', 'trainer');
  const counts: number[] = [];
  for (let it = 0; it < 4; it++) {
    const { scalars } = await trainer.step(it);
    for (const [k, v] of Object.entries(scalars)) assert.ok(Number.isFinite(v), `iteration ${it}: ${k} = ${v}`);
    assert.ok('lr/classifier' in scalars && 'lr/backbone' in scalars, `model groups logged: ${Object.keys(scalars).join(', ')}`);
    counts.push(tf.memory().numTensors);
  }
  assert.ok(counts.every((n) => n === counts[0]), `live tensors per iteration: ${counts.join(', ')}`);
  for (const slot of ['model', 'discriminator'] as const) ((await c.get(slot, slot)) as Network).dispose();
  for (const slot of ['optimizer', 'discriminator_optimizer']) (await c.get(slot, 'optimizer')).dispose();
});
