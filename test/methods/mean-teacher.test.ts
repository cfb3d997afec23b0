/**
 * The mean-teacher pack with the real components on a tiny mini-VOC: each mask type trains 20
 * iterations as one compiled step; the teacher is scored when `evaluation.network: teacher`; an
 * interrupted and resumed run ends with the uninterrupted run's student and teacher bit for bit
 * (mask draws come from the run's checkpointed generator). Plus the EMA rule and the masks'
 * reproducibility from the seed, without an engine.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { tf, type Network, type Variable } from '../../src/index.js';
import { SeededRng } from '../../src/data/rng.js';
import { builtinRegistry } from '../../src/plugin/bootstrap.js';
import { loadExperiment } from '../../src/config/index.js';
import { runExperiment } from '../../src/engine/run.js';
import { listCheckpoints, findCheckpoint } from '../../src/engine/checkpoint.js';
import { evaluateCheckpoint } from '../../src/engine/eval-run.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { quietLog, recordingLog } from '../support/log.js';
import { drawBoxMasks } from '../../plugins/methods/mean-teacher/cutmix.js';
import { classMixMasks, drawClassPriorities } from '../../plugins/methods/mean-teacher/classmix.js';
import { emaAlpha, emaUpdate } from '../../plugins/methods/mean-teacher/trainer.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-mt-'));
let data: string | undefined;

async function experiment(method: 'cutmix' | 'classmix', extra: string[] = [], model = ['model.base_width=4', 'model.pretrained=null']) {
  if (!data) {
    data = path.join(dir, 'mini-voc');
    await (await builtinRegistry()).get('dataset', 'mini-voc').tool!.run({ out: data, train: 12, val: 2, size: 64 }, quietLog);
  }
  return loadExperiment(path.join(root, 'experiments', 'mini-voc', `${method}-mt.yaml`), {
    set: [
      `dataset.root=${data}`,
      'dataset.crop=32',
      'dataset.labeled_fraction=0.5',
      ...model,
      'trainer.batch_size=2',
      'checkpoint.every=0',
      `output.dir=${path.join(dir, 'runs')}`,
      'progress.bar=never',
      ...extra,
    ],
  });
}

function tensorsOf(runDir: string) {
  return readSafetensors(listCheckpoints(runDir).at(-1)!.tensorsFile).tensors;
}

for (const method of ['cutmix', 'classmix'] as const) {
  test(`mean teacher + ${method}: 20 iterations on mini-VOC, one compiled graph, finite losses (a NaN would stop the run)`, async () => {
    const log = recordingLog();
    const resolved = await experiment(method, ['trainer.iterations=20', 'evaluation.at_end=false']);
    const r = await runExperiment(resolved, { log, runDir: path.join(dir, `${method}-20`) });
    assert.equal(r.status, 'FINISHED', r.error?.stack);
    assert.equal(r.iteration, 20);
    const compiled = log.infos.filter((m) => /step 'mean-teacher'.* compiled: \d+ TensorFlow ops as one graph/.test(m));
    assert.equal(compiled.length, 1, `the step compiles once: ${log.infos.filter((m) => /step/.test(m)).join(' | ')}`);
    assert.ok(!log.warnings.some((m) => /not compiled/.test(m)), log.warnings.join(' | '));
    const t = tensorsOf(r.runDir);
    const teacherKeys = [...t.keys()].filter((k) => k.startsWith('trainer/teacher/'));
    assert.equal(teacherKeys.length, [...t.keys()].filter((k) => k.startsWith('model/')).length, 'the teacher is checkpointed, tensor for tensor');
    const k = teacherKeys.find((x) => x.endsWith('weight'))!;
    assert.notDeepEqual(Array.from(t.get(k)!.data), Array.from(t.get(k.replace('trainer/teacher/', 'model/'))!.data), 'the teacher lags the student');
  });
}

test('a teacher-evaluated run reports the teacher\'s metric (not the student\'s)', async () => {
  // The committed pretrained backbone: a random one predicts one class everywhere, teacher and student alike.
  const resolved = await experiment('cutmix', ['trainer.iterations=4'], []);
  assert.equal((resolved.config.evaluation as { network: string }).network, 'teacher');
  const r = await runExperiment(resolved, { log: quietLog, runDir: path.join(dir, 'teacher-eval') });
  assert.equal(r.status, 'FINISHED', r.error?.stack);
  const ckpt = findCheckpoint(r.runDir);
  const evalOf = (network: string) => evaluateCheckpoint(resolved, ckpt, { log: quietLog, outDir: path.join(dir, `eval-${network}`), network });
  const teacher = await evalOf('teacher');
  const student = await evalOf('model');
  assert.equal(r.metrics.miou, teacher.scalars.miou, 'the run scored the teacher');
  assert.ok(Number.isFinite(student.scalars.miou));
  // After a few iterations both may still score 0, so the confusion matrices tell them apart.
  const confusion = (d: string) => readFileSync(path.join(d, 'confusion_matrix.csv'), 'utf8');
  const runs = confusion(path.join(r.runDir, 'eval', 'iter-0000004'));
  assert.equal(runs, confusion(path.join(dir, 'eval-teacher')), "the run's evaluation is the teacher's, prediction for prediction");
  assert.notEqual(runs, confusion(path.join(dir, 'eval-model')), 'the student (other weights) predicts differently');
});

for (const method of ['cutmix', 'classmix'] as const) {
  test(`mean teacher + ${method}: interrupt + resume = uninterrupted, student and teacher bit for bit`, async () => {
    const resolved = await experiment(method, ['trainer.iterations=6', 'evaluation.at_end=false']);
    const full = await runExperiment(resolved, { log: quietLog, runDir: path.join(dir, `${method}-full`) });
    assert.equal(full.status, 'FINISHED', full.error?.stack);
    const ctrl = new AbortController();
    const part = await runExperiment(resolved, { log: quietLog, runDir: path.join(dir, `${method}-split`), signal: ctrl.signal, onIteration: (it) => it === 2 && ctrl.abort() });
    assert.equal(part.status, 'KILLED');
    const resumed = await runExperiment(resolved, { log: quietLog, resume: part.runDir });
    assert.equal(resumed.status, 'FINISHED', resumed.error?.stack);
    const a = tensorsOf(full.runDir);
    const b = tensorsOf(part.runDir);
    assert.deepEqual([...b.keys()].sort(), [...a.keys()].sort());
    assert.ok([...a.keys()].some((k) => k.startsWith('trainer/teacher/')));
    const differ = [...a].filter(([k, t]) => !Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).equals(Buffer.from(b.get(k)!.data.buffer, b.get(k)!.data.byteOffset, b.get(k)!.data.byteLength))).map(([k]) => k);
    const maxDiff = (k: string) => { const x = a.get(k)!.data, y = b.get(k)!.data; let m = 0; for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(Number(x[i]) - Number(y[i]))); return m; };
    assert.deepEqual(differ.map((k) => `${k} ${maxDiff(k).toExponential(2)}`), [], 'tensors that differ after resume');
  });
}

test('EMA: t ← α·t + (1−α)·s on every float tensor; α ramps as the true average with ema_warmup', () => {
  const net = (values: number[][]): Network => {
    const vars = new Map<string, Variable>(values.map((v, i) => [`p${i}`, tf.variable(tf.tensor1d(v), true, `ema-test/${Math.random()}/${i}`)]));
    return { parameterGroups: () => [], stateDict: () => vars, dispose: () => vars.forEach((v) => v.dispose()) };
  };
  const teacher = net([[1, 2], [3]]);
  const student = net([[5, -2], [0.5]]);
  emaUpdate(teacher, student, tf.scalar(0.99), tf.scalar(1 - 0.99));
  const f = Math.fround;
  const expect = (t: number, s: number) => f(f(f(t) * f(0.99)) + f(f(s) * f(1 - 0.99)));
  assert.deepEqual(Array.from(teacher.stateDict().get('p0')!.dataSync()), [expect(1, 5), expect(2, -2)]);
  assert.deepEqual(Array.from(teacher.stateDict().get('p1')!.dataSync()), [expect(3, 0.5)]);
  // Parameters only: a non-trainable tensor (batch-norm statistics) keeps the teacher's own value.
  const stats = (v: number) => new Map([['bn.running_mean', tf.variable(tf.tensor1d([v]), false, `ema-test/${Math.random()}/bn`)]]);
  const withStats = (own: Network, v: number): Network => {
    const all = new Map([...own.stateDict(), ...stats(v)]);
    return { parameterGroups: () => [], stateDict: () => all, dispose: () => all.forEach((x) => x.dispose()) };
  };
  const t2 = withStats(net([[1]]), 7);
  const s2 = withStats(net([[5]]), -3);
  emaUpdate(t2, s2, tf.scalar(0.5), tf.scalar(0.5), false);
  assert.deepEqual([...t2.stateDict()].map(([k, v]) => [k, v.dataSync()[0]]), [['p0', 3], ['bn.running_mean', 7]]);
  emaUpdate(t2, s2, tf.scalar(0.5), tf.scalar(0.5), true);
  assert.deepEqual([...t2.stateDict()].map(([k, v]) => [k, v.dataSync()[0]]), [['p0', 4], ['bn.running_mean', 2]]);
  t2.dispose();
  s2.dispose();
  teacher.dispose();
  student.dispose();
  assert.equal(emaAlpha({ ema_decay: 0.99, ema_warmup: false }, 0), 0.99);
  assert.deepEqual([0, 1, 9, 99, 100, 1000].map((i) => emaAlpha({ ema_decay: 0.99, ema_warmup: true }, i)), [0, 0.5, 0.9, 0.99, 0.99, 0.99]);
});

test('masks are a function of the seed: the same seed draws the same masks, another seed others', () => {
  const batch = { n: 3, height: 20, width: 24, numClasses: 5 };
  const o = { prop_range: [0.5, 0.5] as [number, number], n_boxes: 1, random_aspect_ratio: true };
  const a = drawBoxMasks(new SeededRng(7), batch, o);
  assert.deepEqual(drawBoxMasks(new SeededRng(7), batch, o), a);
  assert.notDeepEqual(drawBoxMasks(new SeededRng(8), batch, o), a);
  for (let i = 0; i < batch.n; i++) {
    const cut = a.slice(i * 480, (i + 1) * 480).filter((v) => v === 0).length;
    assert.ok(Math.abs(cut / 480 - 0.5) < 0.1, `image ${i}: a box of about half the image comes from the partner (${cut}/480)`);
  }
  assert.deepEqual(drawClassPriorities(new SeededRng(7), batch), drawClassPriorities(new SeededRng(7), batch));
  // ClassMix: image 0 predicts classes {0, 1, 2, 4} (4 present: 2 are kept), image 1 only {3} (floor(1/2) = 0 kept)
  const pred = [
    [0, 1, 2, 4],
    [3, 3, 3, 3],
  ];
  const logits = tf.oneHot(tf.tensor2d(pred, [2, 4], 'int32'), 5).reshape([2, 1, 4, 5]) as tf.Tensor4D;
  const priorities = tf.tensor2d([
    [0.9, 0.1, 0.5, 0.0, 0.2], // present 0,1,2,4 → lowest two: 1 (0.1), 4 (0.2)
    [0.3, 0.3, 0.3, 0.3, 0.3],
  ]);
  assert.deepEqual(Array.from(classMixMasks(priorities, logits).dataSync()), [0, 1, 0, 1, 0, 0, 0, 0]);
});
