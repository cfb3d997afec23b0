import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf, type Network, type Trainer } from '../../src/index.js';
import { assemble, backends, iterate, useBackend } from './support.js';
import { batchSource, randomBatches, testPlugins } from './tiny-plugins.js';

function experiment(trainer: Record<string, unknown>) {
  return {
    seed: 3,
    model: { type: 'tiny-gen', num_classes: 3 },
    discriminator: { type: 'tiny-disc', num_classes: 3 },
    optimizer: { type: 'sgd' },
    scheduler: { type: 'poly', lr: 1e-2, max_iterations: 50 },
    discriminator_optimizer: { type: 'adam' },
    discriminator_scheduler: { type: 'poly', lr: 1e-3, max_iterations: 50 },
    dataset: { type: 'test-batches', num_classes: 3 },
    trainer,
  };
}

async function release(c: ReturnType<typeof assemble>): Promise<void> {
  for (const slot of ['model', 'discriminator']) if (c.has(slot)) ((await c.get(slot, slot as 'model')) as Network).dispose();
  for (const slot of ['optimizer', 'discriminator_optimizer']) if (c.has(slot)) (await c.get(slot, 'optimizer')).dispose();
}

async function snapshot(net: Network): Promise<Float32Array[]> {
  return [...net.stateDict().values()].map((v) => v.dataSync() as Float32Array);
}

for (const backend of await backends()) {
  test(`adversarial-semi leaves the number of live tensors unchanged over 50 iterations [${backend}]`, async () => {
    await useBackend(backend);
    batchSource.make = randomBatches(8, 8, 3);
    // semi_start 10 and t_semi 0.5: the run goes through the adversarial-only, the self-training
    // and (on some batches) the skipped-unlabeled paths.
    const c = assemble(experiment({ type: 'adversarial-semi', iterations: 50, batch_size: 2, semi_start: 10, t_semi: 0.5, lambda_semi_adv: 0.01 }), testPlugins);
    const trainer = await c.get('trainer', 'trainer');
    const baseline = tf.memory().numTensors;
    const counts: number[] = [];
    const seen = new Set<string>();
    for (let it = 0; it < 50; it++) {
      const { scalars } = await iterate(c, trainer, it);
      Object.keys(scalars).forEach((k) => seen.add(k));
      for (const [k, v] of Object.entries(scalars)) assert.ok(Number.isFinite(v), `iteration ${it}: ${k} = ${v}`);
      counts.push(tf.memory().numTensors);
    }
    assert.deepEqual(counts, new Array(50).fill(baseline), 'live tensors after every iteration equal those before the first');
    for (const k of ['loss_seg', 'loss_adv', 'loss_semi_adv', 'loss_semi', 'semi_ratio', 'loss_d_fake', 'loss_d_real']) {
      assert.ok(seen.has(k), `scalar '${k}' reported`);
    }
    await release(c);
  });
}

test('supervised trainer: CE on labeled batches, updates only the model, no leak, no learning rates of its own', async () => {
  await useBackend('cpu');
  batchSource.make = randomBatches(8, 8, 3);
  batchSource.requested = [];
  const c = assemble({ ...experiment({ type: 'supervised', iterations: 5, batch_size: 2 }), discriminator: undefined, discriminator_optimizer: undefined, discriminator_scheduler: undefined }, testPlugins);
  const trainer = await c.get('trainer', 'trainer');
  const model = (await c.get('model', 'model')) as Network;
  const before = await snapshot(model);
  const baseline = tf.memory().numTensors;
  const losses: number[] = [];
  for (let it = 0; it < 5; it++) {
    const { scalars } = await iterate(c, trainer, it);
    losses.push(scalars.loss_seg!);
    // The engine steps the schedules and logs lr/*: the trainer reports its losses only.
    assert.deepEqual(Object.keys(scalars), ['loss_seg']);
    assert.equal(tf.memory().numTensors, baseline);
  }
  assert.deepEqual(batchSource.requested, ['labeled']);
  const after = await snapshot(model);
  assert.ok(after.some((a, i) => a.some((v, j) => v !== before[i]![j])), 'the model was updated');
  assert.ok(losses.every(Number.isFinite));
  await release(c);
});

test('adversarial trainer: no unlabeled stream, no semi scalars, D trained on labeled predictions', async () => {
  await useBackend('cpu');
  batchSource.make = randomBatches(8, 8, 3);
  batchSource.requested = [];
  const c = assemble(experiment({ type: 'adversarial', iterations: 3, batch_size: 2, lambda_adv: 0.01 }), testPlugins);
  const trainer = await c.get('trainer', 'trainer');
  const disc = (await c.get('discriminator', 'discriminator')) as Network;
  const before = await snapshot(disc);
  const { scalars } = await iterate(c, trainer, 0);
  // Schedules are the engine's: stepped by nobody, the learning rates stay where the engine left them.
  const [optG, optD] = [await c.get('optimizer', 'optimizer'), await c.get('discriminator_optimizer', 'optimizer')];
  optG.learningRate = 0.123;
  optD.learningRate = 0.456;
  await trainer.step(1);
  assert.deepEqual([optG.learningRate, optD.learningRate], [0.123, 0.456], 'the trainer stepped no scheduler');
  assert.deepEqual(batchSource.requested.sort(), ['groundTruth', 'labeled']);
  // The trainer names its streams and picks their part of the partition; seeds differ by name.
  const { labeled, groundTruth } = batchSource.opened;
  assert.deepEqual([labeled?.subset, labeled?.unpadded], ['labeled', undefined]);
  assert.deepEqual([groundTruth?.subset, groundTruth?.unpadded], ['labeled', true]);
  assert.notEqual(labeled?.seed, groundTruth?.seed, 'independent streams');
  for (const k of ['loss_semi', 'loss_semi_adv', 'semi_ratio']) assert.ok(!(k in scalars), `no '${k}'`);
  for (const k of ['loss_seg', 'loss_adv', 'loss_d_fake', 'loss_d_real']) assert.ok(k in scalars, `'${k}' reported`);
  const after = await snapshot(disc);
  assert.ok(after.some((a, i) => a.some((v, j) => v !== before[i]![j])), 'the discriminator was updated');
  await release(c);
});

test('trainer state holds stream positions: a restored trainer draws the same next batches', async () => {
  await useBackend('cpu');
  const drawn: string[] = [];
  const make = randomBatches(8, 8, 3);
  batchSource.make = (name, index, n, subset) => {
    drawn.push(`${name}:${index}`);
    return make(name, index, n, subset);
  };
  const c1 = assemble(experiment({ type: 'adversarial-semi', iterations: 4, batch_size: 2, semi_start: 0 }), testPlugins);
  const t1: Trainer = await c1.get('trainer', 'trainer');
  await iterate(c1, t1, 0);
  await iterate(c1, t1, 1);
  const state = JSON.parse(JSON.stringify(t1.getState())) as Record<string, unknown>;
  assert.deepEqual(state, { streams: { labeled: { position: 2 }, groundTruth: { position: 2 }, unlabeled: { position: 2 } } });
  await release(c1);
  const c2 = assemble(experiment({ type: 'adversarial-semi', iterations: 4, batch_size: 2, semi_start: 0 }), testPlugins);
  const t2: Trainer = await c2.get('trainer', 'trainer');
  t2.setState(state);
  drawn.length = 0;
  await iterate(c2, t2, 2);
  assert.deepEqual(drawn.sort(), ['groundTruth:2', 'labeled:2', 'unlabeled:2']);
  await release(c2);
});

test('unlabeled branch waits for semi_start_adv', async () => {
  await useBackend('cpu');
  batchSource.make = randomBatches(8, 8, 3);
  const c = assemble(experiment({ type: 'adversarial-semi', iterations: 4, batch_size: 2, semi_start_adv: 1, semi_start: 2 }), testPlugins);
  const trainer = await c.get('trainer', 'trainer');
  const s0 = (await iterate(c, trainer, 0)).scalars;
  const s1 = (await iterate(c, trainer, 1)).scalars;
  const s2 = (await iterate(c, trainer, 2)).scalars;
  assert.ok(!('loss_semi_adv' in s0) && !('semi_ratio' in s0), 'iteration 0: no unlabeled branch');
  assert.ok('loss_semi_adv' in s1 && !('semi_ratio' in s1), 'iteration 1: adversarial term only');
  assert.ok('loss_semi_adv' in s2 && 'semi_ratio' in s2, 'iteration 2: self-training on');
  await release(c);
});
