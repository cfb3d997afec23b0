/**
 * Compiled steps (src/runtime/capture): a step recorded twice and replayed as one TensorFlow graph
 * must train exactly like the eager step, follow learning rates set between steps, keep separate
 * programs per key, and stay eager (saying why) when it cannot be captured.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend } from '../../src/runtime/index.js';
import { CompiledStep } from '../../src/runtime/capture/compiled-step.js';
import { tf, nn, type Optimizer, type Scalar, type Tensor, type Tensor4D } from '../../src/index.js';
import { DeepLabV2 } from '../../plugins/models/deeplabv2/index.js';
import { FcDiscriminator } from '../../plugins/methods/adversarial/fcdisc.js';
import { create } from '../trainers/support.js';
import { relErr, UNIT_SCALE } from '../support/numeric.js';
import { quietLine } from '../support/log.js';
import { tensorflowLoads } from '../support/backends.js';

const native = await tensorflowLoads();
const skip = native ? false : 'the tensorflow backend does not load here';

const C = 5;

/** A miniature AdvSemiSeg iteration (G on labeled + unlabeled, D on fake and real, SGD + Adam). */
async function setup(prefix: string) {
  const G = new DeepLabV2(
    {
      depth: 18,
      base_width: 4,
      num_classes: C,
      rates: [1, 2],
      bn: { affine: 'trainable', statistics: 'batch', momentum: 0.1, eps: 1e-5 },
      upsampling: 'bilinear',
      pretrained: null,
      pretrained_strip_prefix: '',
      classifier_lr_multiplier: 10,
    },
    `${prefix}G`,
    7,
  );
  const D = new FcDiscriminator({ ndf: 4, num_classes: C, leaky_slope: 0.2, lr_multiplier: 1 }, `${prefix}D`, 8);
  const optG = (await create('optimizer', 'sgd', { momentum: 0.9, weight_decay: 5e-4 }, { target: G })) as Optimizer;
  const optD = (await create('optimizer', 'adam', { betas: [0.9, 0.99] }, { target: D, slot: 'discriminator_optimizer' })) as Optimizer;
  const gVars = G.parameterGroups().flatMap((g) => g.variables);
  const dVars = D.parameterGroups().flatMap((g) => g.variables);
  const step = (inputs: readonly Tensor[], semi: boolean) =>
    tf.tidy(() => {
      const [xl, xu, yl, yr] = inputs as [Tensor4D, Tensor4D, Tensor, Tensor];
      const gu = tf.variableGrads(() => {
        const p = G.apply(xu, { training: true });
        const d = D.apply(tf.softmax(p), { training: true });
        let loss = tf.mean(tf.softplus(tf.neg(d)));
        if (semi) {
          // Self-training against its own detached soft prediction (an argmax pseudo-label would
          // flip on near-ties under float reassociation and make the comparison chaotic).
          const target = nn.stopGradient(tf.softmax(p));
          loss = tf.add(loss, tf.neg(tf.mean(tf.sum(tf.mul(target, tf.logSoftmax(p)), 3))));
        }
        return loss as Scalar;
      }, gVars);
      let predL!: Tensor;
      const gl = tf.variableGrads(() => {
        const p = G.apply(xl, { training: true });
        predL = tf.keep(nn.stopGradient(p));
        const d = D.apply(tf.softmax(p), { training: true });
        return tf.add(tf.mean(nn.softmaxCrossEntropy(p, yl)), tf.mul(0.01, tf.mean(tf.softplus(tf.neg(d))))) as Scalar;
      }, gVars);
      const onehot = tf.cast(tf.oneHot(yr, C), 'float32') as Tensor4D;
      const gd = tf.variableGrads(() => {
        const fake = tf.mean(tf.softplus(D.apply(tf.softmax(predL) as Tensor4D, { training: true })));
        const real = tf.mean(tf.softplus(tf.neg(D.apply(onehot, { training: true }))));
        return tf.add(fake, real) as Scalar;
      }, dVars);
      predL.dispose();
      const g: Record<string, Tensor> = {};
      for (const v of gVars) g[v.name] = tf.add(gu.grads[v.name]!, gl.grads[v.name]!);
      optG.applyGradients(g);
      optD.applyGradients(gd.grads);
      return { loss: gl.value, lossD: gd.value };
    });
  // getState may return fresh tensors (counters as int32): read them inside a tidy.
  const names = () => tf.tidy(() => [...[...G.stateDict().keys()].map((k) => 'G.' + k), ...[...D.stateDict().keys()].map((k) => 'D.' + k), ...Object.keys(optG.getState()), ...Object.keys(optD.getState())]);
  const variables = () => tf.tidy(() => [...G.stateDict().values(), ...D.stateDict().values(), ...Object.values(optG.getState()), ...Object.values(optD.getState())].map((t) => Float32Array.from(t.dataSync())));
  const dispose = () => [G, D, optG, optD].forEach((x) => x.dispose());
  /** Makes this setup's networks and optimizer state equal to `from`'s. */
  const copyFrom = (from: { prefix: string; G: DeepLabV2; D: FcDiscriminator; optG: Optimizer; optD: Optimizer }) =>
    tf.tidy(() => {
      for (const [a, b] of [
        [from.G, G],
        [from.D, D],
      ] as const) {
        const dst = b.stateDict();
        for (const [name, t] of a.stateDict()) (dst.get(name) as tf.Variable).assign(t.clone());
      }
      // Optimizer state is keyed `<variable>/<slot>`, and variable names start with the prefix.
      const rename = (state: Record<string, Tensor>) => Object.fromEntries(Object.entries(state).map(([k, t]) => [prefix + k.slice(from.prefix.length), t]));
      optG.setState(rename(from.optG.getState()));
      optD.setState(rename(from.optD.getState()));
    });
  return { prefix, G, D, step, variables, names, optG, optD, copyFrom, dispose };
}

function batch(i: number): Tensor[] {
  return [tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 10 + i), tf.randomNormal([2, 32, 32, 3], 0, 1, 'float32', 20 + i), tf.randomUniform([2, 32, 32], 0, C, 'int32', 30 + i), tf.randomUniform([2, 32, 32], 0, C, 'int32', 40 + i)];
}

/** Runs `steps` iterations (learning rates change every step, semi switches on at 4) and returns the final state. */
async function train(prefix: string, compile: boolean, steps: number) {
  const s = await setup(prefix);
  let semi = false;
  const compiled = compile ? new CompiledStep((inputs) => s.step(inputs, semi)) : undefined;
  const losses: number[] = [];
  for (let i = 0; i < steps; i++) {
    s.optG.learningRate = 2e-3 * (1 - i / steps) ** 0.9;
    s.optD.learningRate = 2e-4 * (1 - i / steps) ** 0.9;
    semi = i >= 4;
    const inputs = batch(i);
    // The semi branch is JavaScript control flow: it gets a key of its own.
    const out = compiled ? compiled.run(inputs, semi ? 'semi' : 'plain') : s.step(inputs, semi);
    losses.push(out.loss.dataSync()[0]!);
    tf.dispose([...inputs, ...Object.values(out)]);
  }
  const state = s.variables();
  const status = compiled?.status() ?? [];
  compiled?.dispose();
  s.dispose();
  return { state, losses, status };
}

test('a compiled step trains like the eager step (SGD + Adam, changing learning rates, two keyed programs)', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: quietLine });
  const before = tf.memory().numTensors;
  const eager = await train('e', false, 12);
  const compiled = await train('c', true, 12);
  // Both keys compiled at their first call ('plain' at step 0, 'semi' at step 4).
  assert.deepEqual(
    compiled.status.map((s) => [s.key.split('|')[0], s.compiled]),
    [
      ['plain', true],
      ['semi', true],
    ],
  );
  // Over 12 steps the runs drift apart by float reassociation (graph kernels sum in other orders),
  // amplified mostly by Adam, which scales noise-level gradients of the discriminator to full
  // steps: the losses follow the same trajectory to ~1e-4, while single momentum buffers can
  // differ by 10 %. The next test compares single steps from identical states, tightly.
  for (let i = 0; i < eager.losses.length; i++) assert.ok(Math.abs(eager.losses[i]! - compiled.losses[i]!) <= 1e-3 * Math.max(1, Math.abs(eager.losses[i]!)), `loss at step ${i}: ${eager.losses[i]} vs ${compiled.losses[i]}`);
  assert.equal(eager.state.length, compiled.state.length);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
});

test('from the same state, one compiled step computes what one eager step does (every variable, both keys)', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: quietLine });
  const eager = await setup('pe');
  const graph = await setup('pg');
  let semi = false;
  const compiled = new CompiledStep((inputs) => graph.step(inputs, semi));
  try {
    for (let i = 0; i < 8; i++) {
      semi = i >= 4;
      graph.copyFrom(eager);
      for (const s of [eager, graph]) {
        s.optG.learningRate = 2e-3 * (1 - i / 8);
        s.optD.learningRate = 2e-4 * (1 - i / 8);
      }
      const inputs = batch(i);
      const a = eager.step(inputs, semi);
      const b = compiled.run(inputs, semi ? 'semi' : 'plain');
      for (const k of ['loss', 'lossD']) assert.ok(relErr(b[k]!.dataSync(), a[k]!.dataSync(), UNIT_SCALE) < 1e-5, `step ${i} ${k}: ${b[k]!.dataSync()[0]} vs ${a[k]!.dataSync()[0]}`);
      const [ea, ga] = [eager.variables(), graph.variables()];
      ea.forEach((e, j) => assert.ok(relErr(ga[j]!, e, UNIT_SCALE) < 1e-5, `step ${i}, state tensor ${j} ${eager.names()[j]}: relative error ${relErr(ga[j]!, e, UNIT_SCALE)}`));
      tf.dispose([...inputs, ...Object.values(a), ...Object.values(b)]);
    }
    assert.ok(compiled.status().every((s) => s.compiled));
  } finally {
    compiled.dispose();
    eager.dispose();
    graph.dispose();
  }
});

test('a step that reads values back or bakes in changing JavaScript numbers stays eager and says why', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: quietLine });
  const v = tf.variable(tf.ones([3]), true, 'capture-test-v');
  const logs: string[] = [];
  let n = 0;
  const reads = new CompiledStep(() => {
    const y = tf.mul(v, 2);
    if (y.dataSync()[0]! > 100) throw new Error('unreachable');
    return { y };
  }, (m) => logs.push(m));
  const changing = new CompiledStep(() => {
    n += 1;
    v.assign(tf.tidy(() => tf.add(v, tf.scalar(n))));
    return { y: tf.mul(v, 1) };
  }, (m) => logs.push(m));
  for (let i = 0; i < 4; i++) {
    tf.dispose(Object.values(reads.run([])));
    tf.dispose(Object.values(changing.run([])));
  }
  assert.equal(reads.status()[0]!.compiled, false);
  assert.match(reads.status()[0]!.reason!, /reads 1 tensor value\(s\) back into JavaScript \(first at .*compiled-step\.test\.ts/);
  assert.equal(changing.status()[0]!.compiled, false);
  assert.match(changing.status()[0]!.reason!, /op \d+ \(Add\): reads a tensor made from JavaScript values that changed between steps/);
  // The first call ran the function four times (warm-up and two recordings, rolled back, then the
  // eager result: +4) and the other three once each: v = 1 + 4 + 5 + 6 + 7. Side effects outside
  // variables repeat at capture, which is why a step must keep its state in variables.
  assert.deepEqual([...v.dataSync()], [23, 23, 23]);
  assert.equal(logs.length, 2);
  reads.dispose();
  changing.dispose();
  v.dispose();
});

test('a compiled step that fails inside TensorFlow says so and how to see which op', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: quietLine });
  const logits = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]), true, 'capture-test-logits');
  // TensorFlow checks the labels when the op runs: 7 is no class of 3.
  const step = new CompiledStep((inputs) => ({ y: nn.softmaxCrossEntropy(logits, inputs[0]!) }));
  const ok = tf.tensor1d([0, 2], 'int32');
  tf.dispose(Object.values(step.run([ok])));
  assert.equal(step.status()[0]!.compiled, true, step.status()[0]!.reason);
  const bad = tf.tensor1d([0, 7], 'int32');
  assert.throws(
    () => step.run([bad]),
    (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'runtime.compiled-step-failed');
      assert.match(e.message, /the compiled training step failed inside TensorFlow: .*7/);
      assert.match(e.hint!, /runtime\.compile: false/);
      return true;
    },
  );
  tf.dispose([ok, bad]);
  step.dispose();
  logits.dispose();
});

test('on other backends a compiled step simply runs eagerly', async () => {
  await selectBackend({ backend: 'cpu', log: quietLine });
  const v = tf.variable(tf.zeros([2]), true, 'capture-test-cpu');
  const step = new CompiledStep(() => {
    v.assign(tf.tidy(() => tf.add(v, 1)));
    return { v: tf.clone(v) };
  });
  for (let i = 0; i < 4; i++) tf.dispose(Object.values(step.run([])));
  assert.deepEqual([...v.dataSync()], [4, 4]);
  assert.deepEqual(step.status(), []);
  step.dispose();
  v.dispose();
});
