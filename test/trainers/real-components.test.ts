import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf, type Network } from '../../src/index.js';
import { assemble, backends, iterate, useBackend } from './support.js';
import { relErr, UNIT_SCALE } from '../support/numeric.js';
import { batchSource, fixtureDataset, randomBatches } from './tiny-plugins.js';

/** adversarial-semi with deeplabv2 + fcdisc at width 4 (3 classes), poly schedules, the three losses. */
function tinyAdvSemi(iterations: number, rates: number[], trainer: Record<string, unknown>): Record<string, unknown> {
  return {
    seed: 0,
    model: { type: 'deeplabv2', depth: 18, base_width: 4, num_classes: 3, rates },
    discriminator: { type: 'fcdisc', ndf: 4, num_classes: 3 },
    optimizer: { type: 'sgd' },
    scheduler: { type: 'poly', lr: 1e-3, max_iterations: iterations },
    discriminator_optimizer: { type: 'adam' },
    discriminator_scheduler: { type: 'poly', lr: 1e-4, max_iterations: iterations },
    losses: { seg: { type: 'ce2d' }, adv: { type: 'bce_adv' }, semi: { type: 'semi_masked_ce' } },
    dataset: { type: 'test-batches', num_classes: 3 },
    trainer: { type: 'adversarial-semi', iterations, batch_size: 2, ...trainer },
  };
}

// The trainers with the built-in deeplabv2 and fcdisc (tiny widths), poly schedules and the three
// losses: their contracts fit together, every scalar is finite and no tensor leaks.
test('adversarial-semi with deeplabv2 + fcdisc: runs, finite scalars, constant live tensors', async () => {
  // The native backend when it loads (a ResNet is slow on the pure-JS cpu backend), else cpu.
  await useBackend((await backends()).at(-1)!);
  batchSource.make = randomBatches(33, 33, 3);
  const c = assemble(
    tinyAdvSemi(4, [6, 12], { semi_start: 1, t_semi: 0.3 }),
    [fixtureDataset],
  );
  const trainer = await c.get('trainer', 'trainer');
  const counts: number[] = [];
  for (let it = 0; it < 4; it++) {
    const { scalars } = await iterate(c, trainer, it);
    for (const [k, v] of Object.entries(scalars)) assert.ok(Number.isFinite(v), `iteration ${it}: ${k} = ${v}`);
    assert.ok(!Object.keys(scalars).some((k) => k.startsWith('lr/')), `learning rates are the engine's to log: ${Object.keys(scalars).join(', ')}`);
    counts.push(tf.memory().numTensors);
  }
  assert.ok(counts.every((n) => n === counts[0]), `live tensors per iteration: ${counts.join(', ')}`);
  for (const slot of ['model', 'discriminator'] as const) ((await c.get(slot, slot)) as Network).dispose();
  for (const slot of ['optimizer', 'discriminator_optimizer']) (await c.get(slot, 'optimizer')).dispose();
});

test('adversarial-semi as a compiled step trains like the eager step (tensorflow backend)', async (t) => {
  const all = await backends();
  if (!all.includes('tensorflow')) return t.skip('the tensorflow backend does not load here');
  await useBackend('tensorflow');
  const be = tf.backend() as unknown as { runSavedModel: (...a: unknown[]) => unknown };
  const original = be.runSavedModel;
  let graphRuns = 0;
  be.runSavedModel = (...a: unknown[]) => {
    graphRuns++;
    return original.apply(be, a);
  };
  // Graph and eager kernels sum in different orders (differences of an ulp), which training
  // amplifies (Adam most: it scales noise-level gradients to full steps); at the reference's
  // learning rates the two runs stay within 1e-3 over ten iterations. (Single steps from the same
  // state agree to 1e-6: test/runtime/compiled-step.test.ts.) t_semi 1: no pixel is ever confident, so the self-training term is skipped (zero-weighted) in
  // every iteration: the comparison does not hinge on argmax ties of pseudo-labels.
  const train = async (compile: boolean) => {
    batchSource.make = randomBatches(33, 33, 3);
    const c = assemble(
      tinyAdvSemi(10, [1, 2], { semi_start: 2, t_semi: 1 }),
      [fixtureDataset],
      // What the engine passes for runtime.compile true / false (BuildContext.runtime).
      { backend: 'tensorflow', compile },
    );
    const trainer = await c.get('trainer', 'trainer');
    const scalars: Record<string, number>[] = [];
    for (let it = 0; it < 10; it++) scalars.push((await iterate(c, trainer, it)).scalars);
    const model = (await c.get('model', 'model')) as Network;
    const disc = (await c.get('discriminator', 'discriminator')) as Network;
    const params = [...model.parameterGroups(), ...disc.parameterGroups()].flatMap((g) => g.variables.map((v) => Float32Array.from(v.dataSync())));
    trainer.close();
    model.dispose();
    disc.dispose();
    for (const slot of ['optimizer', 'discriminator_optimizer']) (await c.get(slot, 'optimizer')).dispose();
    return { scalars, params };
  };
  try {
    const eager = await train(false);
    assert.equal(graphRuns, 0);
    const compiled = await train(true);
    // Both keys ('unlabeled' for iterations 0-1, 'unlabeled+semi' from 2) compile at their first
    // iteration: every iteration runs as a graph.
    assert.equal(graphRuns, 10);
    for (let it = 0; it < 10; it++) {
      assert.deepEqual(Object.keys(compiled.scalars[it]!).sort(), Object.keys(eager.scalars[it]!).sort(), `iteration ${it}: same scalars`);
      assert.equal(compiled.scalars[it]!.semi_skipped, it >= 2 ? 1 : undefined);
      for (const [k, v] of Object.entries(eager.scalars[it]!)) assert.ok(Math.abs(compiled.scalars[it]![k]! - v) <= 1e-3 * Math.max(1, Math.abs(v)), `iteration ${it}: ${k} ${compiled.scalars[it]![k]} vs eager ${v}`);
    }
    eager.params.forEach((p, i) => assert.ok(relErr(compiled.params[i]!, p, UNIT_SCALE) < 1e-3, `parameter ${i}: relative error ${relErr(compiled.params[i]!, p, UNIT_SCALE)}`));
  } finally {
    be.runSavedModel = original;
  }
});
