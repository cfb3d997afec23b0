import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf, type Batch, type Network } from '../../src/index.js';
import { assemble, backends, fixture, flatten, iterate, shapeOf, useBackend } from './support.js';
import { assertClose, UNIT_SCALE } from '../support/numeric.js';
import { batchSource, testPlugins, tinyInit, type InitTensor } from './tiny-plugins.js';

interface TrainerFixture {
  num_classes: number;
  lr_g: number;
  lr_d: number;
  max_iterations: number;
  init: Record<string, InitTensor>;
  batches: { xl: number[][][][]; yl: number[][][]; xu: number[][][][]; ygt: number[][][] }[];
  scenarios: Record<string, { options: Record<string, unknown>; iterations: { scalars: Record<string, number>; params: Record<string, number[]> }[] }>;
}

const fx = fixture<TrainerFixture>('trainer.json');

/** The reference's batches by the adversarial trainers' stream names (labeled, unlabeled, groundTruth). */
function fixtureBatch(role: string, index: number): Batch {
  const b = fx.batches[index]!;
  const x = role === 'unlabeled' ? b.xu : b.xl;
  const y = role === 'groundTruth' ? b.ygt : b.yl;
  const shape = shapeOf(x) as [number, number, number, number];
  return {
    ids: [],
    shape,
    // The real (ground-truth) branch only uses labels; its images are never read.
    images: Float32Array.from(role === 'groundTruth' ? new Array(flatten(x).length).fill(0) : flatten(x)),
    labels: role === 'unlabeled' ? undefined : Int32Array.from(flatten(y)),
  };
}

export function experiment(trainer: Record<string, unknown>) {
  return {
    seed: 0,
    model: { type: 'tiny-gen', num_classes: fx.num_classes },
    discriminator: { type: 'tiny-disc', num_classes: fx.num_classes },
    optimizer: { type: 'sgd', momentum: 0.9, weight_decay: 5e-4 },
    scheduler: { type: 'poly', lr: fx.lr_g, power: 0.9, max_iterations: fx.max_iterations },
    discriminator_optimizer: { type: 'adam', betas: [0.9, 0.99] },
    discriminator_scheduler: { type: 'poly', lr: fx.lr_d, power: 0.9, max_iterations: fx.max_iterations },
    losses: { seg: { type: 'ce2d' }, adv: { type: 'bce_adv' }, semi: { type: 'semi_masked_ce' } },
    dataset: { type: 'test-batches', num_classes: fx.num_classes },
    trainer,
  };
}

/** Every parameter of both networks by `<slot>/<state-dict name>`, in PyTorch layout (OIHW). */
function params(model: Network, disc: Network): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [slot, net] of [['model', model], ['discriminator', disc]] as const) {
    for (const [name, v] of net.stateDict()) {
      out[`${slot}/${name}`] = tf.tidy(() => (v.rank === 4 ? v.transpose([3, 2, 0, 1]) : v).dataSync() as Float32Array);
    }
  }
  return out;
}

for (const backend of await backends()) {
  for (const [name, scenario] of Object.entries(fx.scenarios)) {
    test(`trainer iterations match the PyTorch reference: ${name} [${backend}]`, async () => {
      await useBackend(backend);
      tinyInit.weights = fx.init;
      batchSource.make = (role, index) => fixtureBatch(role, index);
      // The `adversarial` scenario is the reference with λ_semi = λ_semi_adv = 0 and D_remain off:
      // exactly what the `adversarial` trainer type is.
      const trainerConfig =
        name === 'adversarial'
          ? { type: 'adversarial', iterations: 2, batch_size: 2, lambda_adv: scenario.options.lambda_adv }
          : { type: 'adversarial-semi', iterations: 2, batch_size: 2, ...scenario.options };
      const c = assemble(experiment(trainerConfig), testPlugins);
      const trainer = await c.get('trainer', 'trainer');
      const model = await c.get('model', 'model');
      const disc = await c.get('discriminator', 'discriminator');
      try {
        for (const [it, want] of scenario.iterations.entries()) {
          const { scalars } = await iterate(c, trainer, it);
          for (const [key, value] of Object.entries(want.scalars)) {
            assert.ok(key in scalars, `iteration ${it}: scalar '${key}' missing (got ${Object.keys(scalars).join(', ')})`);
            assert.ok(Math.abs(scalars[key]! - value) <= 2e-5 * Math.max(1, Math.abs(value)), `iteration ${it}: ${key} = ${scalars[key]} vs PyTorch ${value}`);
          }
          for (const key of ['loss_semi', 'semi_ratio', 'loss_semi_adv']) assert.equal(key in scalars, key in want.scalars, `iteration ${it}: '${key}' reported iff the reference computes it`);
          const lrG = fx.lr_g * (1 - it / fx.max_iterations) ** 0.9;
          const lrs = (await c.get('optimizer', 'optimizer')).learningRates();
          assert.ok(Math.abs(lrs.backbone! - lrG) < 1e-12 && Math.abs(lrs.classifier! - 10 * lrG) < 1e-12, 'G lr per group');
          assert.ok(Math.abs((await c.get('discriminator_optimizer', 'optimizer')).learningRates().all! - fx.lr_d * (1 - it / fx.max_iterations) ** 0.9) < 1e-12, 'D lr');
          const got = params(model, disc);
          assert.deepEqual(Object.keys(got).sort(), Object.keys(want.params).sort());
          for (const [key, value] of Object.entries(want.params)) assertClose(got[key]!, value, 1e-6, `iteration ${it}: ${key} after the update`, UNIT_SCALE);
        }
      } finally {
        model.dispose();
        disc.dispose();
        for (const slot of ['optimizer', 'discriminator_optimizer']) (await c.get(slot, 'optimizer')).dispose();
        tinyInit.weights = undefined;
      }
    });
  }
}
