/**
 * defineStep (src/runtime/step.ts): a trainer's step reads its named scalars back, frees its inputs
 * and outputs, compiles only when the run says so (BuildContext.runtime.compile), and random
 * numbers it needs arrive as inputs drawn once per iteration, so the replays of a key's first call
 * change nothing.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { selectBackend } from '../../src/runtime/index.js';
import { tf, defineStep, SeededRng, type Rng, type StepHost, type Tensor, type Tensor4D } from '../../src/index.js';
import { quietLine } from '../support/log.js';
import { tensorflowLoads } from '../support/backends.js';

const native = await tensorflowLoads();
const skip = native ? false : 'the tensorflow backend does not load here';

function host(compile: boolean, log: string[] = []): StepHost {
  return { slot: 'trainer', runtime: { backend: tf.getBackend(), compile }, log: { info: (m) => log.push(m) } };
}

test('defineStep reads named scalars back and disposes inputs, outputs and intermediates (eager)', async () => {
  await selectBackend({ backend: 'cpu', log: quietLine });
  const w = tf.variable(tf.ones([3]), true, 'step-test/w');
  const step = defineStep(host(false), ([x]) => {
    const loss = tf.sum(tf.mul(x!, w));
    w.assign(tf.add(w, x!));
    return { loss, twice: tf.mul(loss, 2) };
  });
  const before = tf.memory().numTensors;
  const x = tf.tensor1d([1, 2, 3]);
  const out = step.run([x]);
  assert.deepEqual(out, { loss: 6, twice: 12 });
  assert.ok(x.isDisposed, 'the input is disposed');
  assert.equal(tf.memory().numTensors, before, 'the input, the outputs and every intermediate are freed');
  assert.deepEqual(Array.from(w.dataSync()), [2, 3, 4]);
  assert.deepEqual(step.status(), [], 'runtime.compile false: nothing compiled');
  const bad = defineStep(host(false), ([v]) => ({ map: tf.add(v!, 1) }));
  const y = tf.tensor1d([1, 2]);
  assert.throws(() => bad.run([y]), /step output 'map' has shape \[2\]: a step returns scalars/);
  assert.ok(y.isDisposed, 'inputs are disposed when the step throws');
  w.dispose();
});

test('defineStep compiles only when BuildContext.runtime.compile says so', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: quietLine });
  const w = tf.variable(tf.ones([4]), true, 'step-test/w2');
  const fn = ([x]: readonly Tensor[]) => {
    const loss = tf.sum(tf.mul(x!, w));
    w.assign(tf.sub(w, tf.mul(x!, 0.1)));
    return { loss };
  };
  const log: string[] = [];
  const compiled = defineStep(host(true, log), fn);
  const eager = defineStep(host(false), fn);
  for (let i = 0; i < 3; i++) compiled.run([tf.tensor1d([1, 2, 3, 4])], 'k');
  for (let i = 0; i < 3; i++) eager.run([tf.tensor1d([1, 2, 3, 4])], 'k');
  assert.deepEqual(compiled.status().map((s) => s.compiled), [true]);
  assert.match(log.join('\n'), /^trainer: step 'k' \(inputs 4\) compiled: \d+ TensorFlow ops as one graph/);
  assert.deepEqual(eager.status(), []);
  compiled.dispose();
  w.dispose();
});

/** A generator that counts how often it is drawn from. */
class CountingRng implements Rng {
  calls = 0;
  private readonly inner: SeededRng;
  constructor(seed: number) {
    this.inner = new SeededRng(seed);
  }
  next(): number {
    this.calls++;
    return this.inner.next();
  }
  int(lo: number, hi: number): number {
    this.calls++;
    return this.inner.int(lo, hi);
  }
}

const N = 2;
const S = 8;

/** A CutMix-style box [y0, x0, h, w] inside an S×S image: four draws. */
function drawBox(rng: Rng): number[] {
  const h = rng.int(1, S);
  const w = rng.int(1, S);
  return [rng.int(0, S - h + 1), rng.int(0, S - w + 1), h, w];
}

/**
 * The box mask built from the box tensor inside the step (so the graph computes it from its input),
 * images mixed with their batch-mates inside the box, one gradient step of a 1×1 convolution.
 */
function cutMixStep(kernel: tf.Variable) {
  return ([x, y, box]: readonly Tensor[]) => {
    const b = box!.toFloat();
    const r = tf.range(0, S).reshape([1, S, 1, 1]);
    const c = tf.range(0, S).reshape([1, 1, S, 1]);
    const inside = (coord: Tensor, start: Tensor, size: Tensor) => tf.logicalAnd(tf.greaterEqual(coord, start), tf.less(coord, tf.add(start, size)));
    const mask = tf.logicalAnd(inside(r, b.slice(0, 1), b.slice(2, 1)), inside(c, b.slice(1, 1), b.slice(3, 1))).toFloat();
    const mixed = tf.add(tf.mul(x!, tf.sub(1, mask)), tf.mul(tf.reverse(x!, 0), mask)) as Tensor4D;
    const target = tf.add(tf.mul(y!, tf.sub(1, mask)), tf.mul(tf.reverse(y!, 0), mask));
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(tf.conv2d(mixed, kernel as tf.Tensor4D, 1, 'same'), target))) as tf.Scalar, [kernel]);
    kernel.assign(tf.sub(kernel, tf.mul(grads[kernel.name]!, 0.1)));
    return { loss: value };
  };
}

async function trainCutMix(compile: boolean, iterations: number): Promise<{ losses: number[]; kernel: Float32Array; draws: number; compiled: boolean[] }> {
  const kernel = tf.variable(tf.fill([1, 1, 3, 1], 0.5), true, `step-test/cutmix-${compile}`);
  const x = tf.randomUniform([N, S, S, 3], 0, 1, 'float32', 1);
  const y = tf.randomUniform([N, S, S, 1], 0, 1, 'float32', 2);
  const step = defineStep(host(compile), cutMixStep(kernel));
  const rng = new CountingRng(42);
  const losses: number[] = [];
  const draws: number[] = [];
  for (let it = 0; it < iterations; it++) {
    // As a trainer does it: drawn in JavaScript from the run's generator, once, then fed in.
    const box = tf.tensor1d(drawBox(rng), 'int32');
    losses.push(step.run([x.clone(), y.clone(), box]).loss!);
    draws.push(rng.calls);
  }
  const result = { losses, kernel: kernel.dataSync() as Float32Array, draws: rng.calls, compiled: step.status().map((s) => s.compiled) };
  step.dispose();
  tf.dispose([kernel, x, y]);
  return result;
}

test('a random box drawn from the generator and fed as an input: compiled equals eager, one draw per iteration', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: quietLine });
  const iterations = 5;
  const eager = await trainCutMix(false, iterations);
  const compiled = await trainCutMix(true, iterations);
  assert.deepEqual(compiled.compiled, [true], 'the step ran as a graph');
  // Four numbers per box, one box per iteration: the first call's three replays drew nothing.
  assert.equal(compiled.draws, 4 * iterations);
  assert.equal(eager.draws, 4 * iterations);
  compiled.losses.forEach((l, i) => assert.ok(Math.abs(l - eager.losses[i]!) <= 1e-6 * Math.max(1, Math.abs(l)), `iteration ${i}: ${l} vs eager ${eager.losses[i]}`));
  compiled.kernel.forEach((v, i) => assert.ok(Math.abs(v - eager.kernel[i]!) <= 1e-6, `kernel[${i}]: ${v} vs eager ${eager.kernel[i]}`));
});

test('what the rule prevents: a box drawn inside the step is drawn on every replay of the first call', { skip }, async () => {
  await selectBackend({ backend: 'tensorflow', log: quietLine });
  const kernel = tf.variable(tf.fill([1, 1, 3, 1], 0.5), true, 'step-test/cutmix-inside');
  const rng = new CountingRng(42);
  const inner = cutMixStep(kernel);
  const log: string[] = [];
  const step = defineStep(host(true, log), ([x, y]) => inner([x!, y!, tf.tensor1d(drawBox(rng), 'int32')]));
  step.run([tf.randomUniform([N, S, S, 3]), tf.randomUniform([N, S, S, 1])]);
  // Warm-up and two recordings (whose boxes differ, so the key cannot compile), then the eager run.
  assert.equal(rng.calls, 4 * 4);
  assert.deepEqual(step.status().map((s) => s.compiled), [false]);
  assert.match(log.join('\n'), /not compiled, running eagerly: .*changed between steps/);
  step.dispose();
  kernel.dispose();
});
