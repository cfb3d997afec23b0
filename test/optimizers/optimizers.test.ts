import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tf, type Network, type Optimizer, type Variable } from '../../src/index.js';
import { backends, create, fixture, useBackend } from '../trainers/support.js';
import { assertClose as assertCloseTo, UNIT_SCALE } from '../support/numeric.js';

// These fixtures hold values of order 1 and below: errors below 1 count absolutely (UNIT_SCALE).
const assertClose = (actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string) => assertCloseTo(actual, expected, tol, what, UNIT_SCALE);

interface OptimFixtures {
  shapes: Record<string, number[]>;
  init: Record<string, number[]>;
  grads: Record<string, number[]>[];
  skip: { step: number; variable: string };
  lrs: number[];
  multipliers: Record<string, number>;
  cases: { kind: 'sgd' | 'adam'; options: Record<string, unknown>; after: Record<string, number[]>[] }[];
}

const fx = fixture<OptimFixtures>('optimizers.json');
let instance = 0;

/** A network of two variables in two groups (`a` at 1×, `b` at 10×), like backbone and classifier. */
function network(): Network & { vars: Record<string, Variable> } {
  const id = instance++;
  const vars = Object.fromEntries(Object.entries(fx.shapes).map(([k, s]) => [k, tf.variable(tf.tensor(fx.init[k]!, s), true, `optim-test${id}/${k}`)]));
  return {
    vars,
    parameterGroups: () => Object.keys(vars).map((k) => ({ name: `group_${k}`, variables: [vars[k]!], lrMultiplier: fx.multipliers[k]! })),
    stateDict: () => new Map(Object.entries(vars)),
    dispose: () => Object.values(vars).forEach((v) => v.dispose()),
  };
}

/** PyTorch option names → ours. */
function ourOptions(kind: string, o: Record<string, unknown>): Record<string, unknown> {
  return kind === 'sgd' ? { momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weight_decay: o.weight_decay } : { betas: o.betas, eps: o.eps, weight_decay: o.weight_decay };
}

for (const backend of await backends()) {
  for (const c of fx.cases) {
    test(`${c.kind} ${JSON.stringify(c.options)} matches torch.optim over 3 steps [${backend}]`, async () => {
      await useBackend(backend);
      const net = network();
      const opt = (await create('optimizer', c.kind, ourOptions(c.kind, c.options), { target: net })) as Optimizer;
      const before = tf.memory().numTensors;
      for (let step = 0; step < 3; step++) {
        opt.learningRate = fx.lrs[step]!;
        assert.deepEqual(opt.learningRates(), { group_a: fx.lrs[step], group_b: fx.lrs[step]! * 10 });
        const grads = Object.fromEntries(
          Object.keys(fx.shapes)
            .filter((k) => !(step === fx.skip.step && k === fx.skip.variable))
            .map((k) => [net.vars[k]!.name, tf.tensor(fx.grads[step]![k]!, fx.shapes[k])]),
        );
        opt.applyGradients(grads);
        tf.dispose(Object.values(grads));
        assert.equal(tf.memory().numTensors, before, `step ${step}: live tensors unchanged`);
        for (const k of Object.keys(fx.shapes)) assertClose(net.vars[k]!.dataSync(), c.after[step]![k]!, 2e-6, `step ${step} variable ${k}`);
      }
      opt.dispose();
      net.dispose();
    });
  }

  test(`optimizer state round-trips: a restored optimizer continues identically [${backend}]`, async () => {
    await useBackend(backend);
    for (const c of fx.cases.filter((x) => x.options.momentum !== 0)) {
      const netA = network();
      const netB = network();
      const a = (await create('optimizer', c.kind, ourOptions(c.kind, c.options), { target: netA })) as Optimizer;
      const b = (await create('optimizer', c.kind, ourOptions(c.kind, c.options), { target: netB })) as Optimizer;
      const gradsFor = (net: typeof netA, step: number) => Object.fromEntries(Object.keys(fx.shapes).map((k) => [net.vars[k]!.name, tf.tensor(fx.grads[step]![k]!, fx.shapes[k])]));
      a.learningRate = 0.1;
      b.learningRate = 0.1;
      const g0 = gradsFor(netA, 0);
      a.applyGradients(g0);
      tf.dispose(Object.values(g0));
      // Move A's state (renamed to B's variables) and weights into B, as a checkpoint would.
      const state = tf.tidy(() => Object.fromEntries(Object.entries(a.getState()).map(([k, t]) => [k.replace(/^optim-test\d+/, netB.vars.a!.name.split('/')[0]!), t.clone()])));
      b.setState(state);
      tf.dispose(Object.values(state));
      for (const k of Object.keys(fx.shapes)) netB.vars[k]!.assign(netA.vars[k]!);
      for (const [net, opt] of [[netA, a], [netB, b]] as const) {
        const g = gradsFor(net, 1);
        opt.applyGradients(g);
        tf.dispose(Object.values(g));
      }
      for (const k of Object.keys(fx.shapes)) assertClose(netB.vars[k]!.dataSync(), netA.vars[k]!.dataSync(), 1e-7, `${c.kind} ${k}`);
      [a, b].forEach((o) => o.dispose());
      [netA, netB].forEach((n) => n.dispose());
    }
  });
}

test('group overrides: lr_multipliers and weight_decays by group name; unknown names are errors', async () => {
  const net = network();
  const opt = (await create('optimizer', 'sgd', { lr_multipliers: { group_b: 1 }, weight_decays: { group_a: 0 } }, { target: net })) as Optimizer;
  opt.learningRate = 0.5;
  assert.deepEqual(opt.learningRates(), { group_a: 0.5, group_b: 0.5 });
  // group_a has no weight decay: a zero gradient leaves it unchanged; group_b decays.
  const zeros = { [net.vars.a!.name]: tf.zerosLike(net.vars.a!), [net.vars.b!.name]: tf.zerosLike(net.vars.b!) };
  opt.applyGradients(zeros);
  assertClose(net.vars.a!.dataSync(), Float32Array.from(fx.init.a!), 0, 'no decay on group_a');
  assertClose(net.vars.b!.dataSync(), fx.init.b!.map((v) => v * (1 - 0.5 * 5e-4)), 1e-7, 'decay on group_b');
  opt.dispose();
  await assert.rejects(create('optimizer', 'adam', { lr_multipliers: { classifer: 10 } }, { target: net, slot: 'discriminator_optimizer' }), (e: Error) => {
    assert.match(e.message, /discriminator_optimizer\.lr_multipliers names a parameter group 'classifer'/);
    return true;
  });
  net.dispose();
});
