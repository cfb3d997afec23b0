import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Optimizer, Scheduler } from '../../src/index.js';
import { create, fixture } from '../trainers/support.js';

interface PolyFixtures {
  curves: { lr: number; power: number; max_iterations: number; every: number; lrs: number[] }[];
}

function fakeOptimizer(): Optimizer {
  return { learningRate: -1, learningRates: () => ({}), applyGradients() {}, getState: () => ({}), setState() {}, dispose() {} };
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-12 + 1e-9 * Math.abs(b);

for (const c of fixture<PolyFixtures>('poly.json').curves) {
  test(`poly every=${c.every} max=${c.max_iterations} power=${c.power} follows the reference curve`, async () => {
    const opt = fakeOptimizer();
    const s = (await create('scheduler', 'poly', { lr: c.lr, power: c.power, max_iterations: c.max_iterations, every: c.every }, { target: opt })) as Scheduler;
    c.lrs.forEach((want, it) => {
      assert.ok(close(s.learningRateAt(it), want), `iteration ${it}: ${s.learningRateAt(it)} vs ${want}`);
      assert.equal(s.step(it), s.learningRateAt(it));
      assert.equal(opt.learningRate, s.learningRateAt(it), 'step sets the optimizer');
    });
  });
}

test('base-103 staircase vs base-104 smooth: equal on multiples of 10, different in between', async () => {
  const stair = (await create('scheduler', 'poly', { every: 10, max_iterations: 20000 }, { target: fakeOptimizer() })) as Scheduler;
  const smooth = (await create('scheduler', 'poly', { every: 1, max_iterations: 20000 }, { target: fakeOptimizer() })) as Scheduler;
  assert.equal(stair.learningRateAt(1230), smooth.learningRateAt(1230));
  assert.equal(stair.learningRateAt(1239), smooth.learningRateAt(1230));
  assert.ok(smooth.learningRateAt(1239) < stair.learningRateAt(1239));
  assert.equal(smooth.learningRateAt(0), 2.5e-4);
});

test('step scheduler: step_size and milestones; neither is a clear error', async () => {
  const bySize = (await create('scheduler', 'step', { lr: 1, gamma: 0.5, step_size: 3 }, { target: fakeOptimizer() })) as Scheduler;
  assert.deepEqual([0, 2, 3, 5, 6, 9].map((i) => bySize.learningRateAt(i)), [1, 1, 0.5, 0.5, 0.25, 0.125]);
  const byMilestones = (await create('scheduler', 'step', { lr: 1, gamma: 0.1, milestones: [2, 5] }, { target: fakeOptimizer() })) as Scheduler;
  assert.deepEqual([0, 1, 2, 4, 5, 100].map((i) => Number(byMilestones.learningRateAt(i).toPrecision(6))), [1, 1, 0.1, 0.1, 0.01, 0.01]);
  await assert.rejects(create('scheduler', 'step', { lr: 1 }, { target: fakeOptimizer(), slot: 'scheduler' }), /scheduler: the step scheduler needs `step_size` or `milestones`/);
});

test('warmup wraps another scheduler built through componentSchema and drives the same optimizer', async () => {
  const opt = fakeOptimizer();
  const s = (await create('scheduler', 'warmup', { iterations: 4, start_factor: 0.2, scheduler: { type: 'poly', lr: 0.1, max_iterations: 100 } }, { target: opt })) as Scheduler;
  const poly = (it: number) => 0.1 * (1 - it / 100) ** 0.9;
  assert.ok(close(s.learningRateAt(0), 0.2 * poly(0)));
  assert.ok(close(s.learningRateAt(2), (0.2 + 0.8 * 0.5) * poly(2)));
  assert.ok(close(s.learningRateAt(4), poly(4)));
  assert.ok(close(s.learningRateAt(50), poly(50)));
  s.step(2);
  assert.ok(close(opt.learningRate, s.learningRateAt(2)));
  const flat = (await create('scheduler', 'warmup', { iterations: 3, start_factor: 0.5, mode: 'constant', scheduler: { type: 'constant', lr: 1 } }, { target: opt })) as Scheduler;
  assert.deepEqual([0, 2, 3].map((i) => flat.learningRateAt(i)), [0.5, 0.5, 1]);
});

test('warmup inside an experiment: the container builds the nested schedule for the same optimizer', async () => {
  const { assemble } = await import('../trainers/support.js');
  const { testPlugins } = await import('../trainers/tiny-plugins.js');
  const c = assemble(
    {
      model: { type: 'tiny-gen' },
      optimizer: { type: 'sgd' },
      scheduler: { type: 'warmup', iterations: 10, start_factor: 0.1, scheduler: { type: 'poly', lr: 0.01, max_iterations: 100, power: 0.9, every: 1, min_lr: 0 } },
    },
    testPlugins,
  );
  const s = await c.get('scheduler', 'scheduler');
  const opt = await c.get('optimizer', 'optimizer');
  s.step(5);
  assert.ok(close(opt.learningRate, (0.1 + 0.9 * 0.5) * 0.01 * (1 - 5 / 100) ** 0.9));
  assert.ok(close(opt.learningRates().classifier!, 10 * opt.learningRate));
  opt.dispose();
  (await c.get('model', 'model')).dispose();
});
