import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import os from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { runExperiment } from '../../src/engine/run.js';
import { listCheckpoints } from '../../src/engine/checkpoint.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { AblateError } from '../../src/errors.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';

const quiet = { info() {}, warn() {}, debug() {} };
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'ablate-engine-'));

function records(runDir: string, sub = '') {
  const file = path.join(runDir, sub, 'tracking', 'record.jsonl');
  return readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('a run trains, checkpoints, evaluates and logs to the tracker', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { checkpoint: { every: 5, keep_last: 2 }, evaluation: { every: 6 } });
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, runName: 'tiny' });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  assert.equal(r.iteration, 12);
  assert.equal(path.basename(r.runDir), `tiny-${exp.hash.slice(0, 8)}`);
  assert.equal(path.basename(path.dirname(r.runDir)), 'engine-test');
  assert.equal(readFileSync(path.join(r.runDir, 'config.yaml'), 'utf8'), exp.canonicalYaml);
  // every 5 → 5, 10, and the final 12; keep_last 2 pruned the first.
  assert.deepEqual(listCheckpoints(r.runDir).map((c) => c.iteration), [10, 12]);
  assert.ok(r.metrics.pixel_acc! > 0.5, `the tiny model learns the brightest channel (pixel_acc ${r.metrics.pixel_acc})`);
  // 3 eval images of 6×5 pixels minus void: predictions were cropped back to the original size.
  assert.ok(r.metrics.pixels! > 70 && r.metrics.pixels! <= 90, `pixels scored: ${r.metrics.pixels}`);

  const ev = records(r.runDir);
  const tags = Object.assign({}, ...ev.filter((e) => e.t === 'tags').map((e) => e.tags));
  assert.equal(tags['ablate.config_hash'], exp.hash);
  assert.equal(tags['ablate.backend'], 'cpu');
  assert.ok(tags['ablate.source.name']);
  // The model summary: parameters per network, as a tag and as an artifact.
  const m = /^(\d+) trainable, (\d+) in all$/.exec(tags['ablate.parameters.model'] ?? '');
  assert.ok(m && Number(m[1]) > 0 && Number(m[1]) <= Number(m[2]), `ablate.parameters.model: ${tags['ablate.parameters.model']}`);
  assert.match(readFileSync(path.join(r.runDir, 'model_summary.md'), 'utf8'), new RegExp(`^\\| model \\| ${Number(m![1]).toLocaleString('en-US')} \\|`, 'm'));
  assert.ok(ev.some((e) => e.t === 'artifact' && String(e.file).endsWith('model_summary.md')), 'model_summary.md is an artifact');
  // The run's log: what the terminal showed (evaluations, progress lines without a bar), kept and logged.
  const runLog = readFileSync(path.join(r.runDir, 'run.log'), 'utf8');
  assert.match(runLog, /^tiny eval @6 \(3 images/m);
  assert.match(runLog, /^tiny it 12\/12 /m);
  assert.ok(ev.some((e) => e.t === 'artifact' && String(e.file).endsWith('run.log')), 'run.log is an artifact');
  const params = Object.assign({}, ...ev.filter((e) => e.t === 'params').map((e) => e.p));
  assert.equal(params['trainer.batch_size'], '2');
  const metricSteps = ev.filter((e) => e.t === 'metrics' && 'loss' in (e.m as object)).map((e) => e.step);
  assert.deepEqual(metricSteps, Array.from({ length: 12 }, (_, i) => i));
  const lrLogged = ev.find((e) => e.t === 'metrics' && 'lr/all' in (e.m as object));
  assert.ok(lrLogged, 'learning rate per group is logged');
  const evals = ev.filter((e) => e.t === 'metrics' && 'pixel_acc' in (e.m as object)).map((e) => e.step);
  assert.deepEqual(evals, [6, 12]);
  assert.equal(ev.at(-1)!.t, 'end');
  assert.equal(ev.at(-1)!.status, 'FINISHED');
  const result = JSON.parse(readFileSync(path.join(r.runDir, 'result.json'), 'utf8'));
  assert.equal(result.status, 'FINISHED');
});

test('resume continues exactly: same final weights and optimizer state as an uninterrupted run', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { checkpoint: { every: 4, keep_last: 3 } });
  const full = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, runDir: path.join(out, 'full') });
  assert.equal(full.status, 'FINISHED', full.error?.message);

  // Interrupt after iteration 6 (0-based): a checkpoint at 7 is written, off the periodic grid.
  const ctrl = new AbortController();
  const part = await runExperiment(exp, {
    registry: tinyRegistry(),
    log: quiet,
    runDir: path.join(out, 'split'),
    signal: ctrl.signal,
    onIteration: (it) => {
      if (it === 6) ctrl.abort();
    },
  });
  assert.equal(part.status, 'KILLED');
  assert.equal(part.iteration, 7);
  assert.equal(listCheckpoints(part.runDir).at(-1)!.iteration, 7);

  const resumed = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, resume: part.runDir });
  assert.equal(resumed.status, 'FINISHED', resumed.error?.message);
  assert.equal(resumed.runDir, part.runDir);
  assert.equal(resumed.iteration, 12);
  // One run: the resumed attempt continues the first attempt's record (a resume event after its KILLED end).
  const ev = records(part.runDir);
  assert.deepEqual(ev.filter((e) => e.t === 'start' || e.t === 'end' || e.t === 'resume').map((e) => e.t === 'end' ? `end ${e.status}` : e.t === 'resume' ? `resume @${e.iteration}` : 'start'), ['start', 'end KILLED', 'resume @7', 'end FINISHED']);
  assert.ok(!existsSync(path.join(part.runDir, 'resume-0000007')), 'no second record');
  const lossSteps = ev.filter((e) => e.t === 'metrics' && 'loss' in (e.m as object)).map((e) => e.step);
  assert.deepEqual(lossSteps, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 'each step once');

  const a = readSafetensors(listCheckpoints(full.runDir).at(-1)!.tensorsFile).tensors;
  const b = readSafetensors(listCheckpoints(part.runDir).at(-1)!.tensorsFile).tensors;
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  assert.ok(a.has('model/bn.running_mean') && a.has('optimizer/model/conv.weight/momentum'), [...a.keys()].join(', '));
  for (const [k, t] of a) assert.deepEqual(Array.from(b.get(k)!.data), Array.from(t.data), `tensor ${k} differs after resume`);
  // Same evaluation too.
  assert.equal(resumed.metrics.pixel_acc, full.metrics.pixel_acc);
});

test('resume refuses a different config', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { trainer: { iterations: 3 } });
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quiet });
  const other = tinyExperiment(out, { trainer: { iterations: 4 } });
  await assert.rejects(runExperiment(other, { registry: tinyRegistry(), log: quiet, resume: r.runDir }), (e: unknown) => {
    assert.ok(e instanceof AblateError);
    assert.equal(e.code, 'run.resume-mismatch');
    return true;
  });
});

test('a NaN loss stops the run naming the iteration and loss, keeping the last good checkpoint', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { trainer: { nan_at: 7 }, checkpoint: { every: 3, keep_last: 5 } });
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quiet });
  assert.equal(r.status, 'FAILED');
  assert.ok(r.error instanceof AblateError);
  assert.match(r.error.message, /iteration 7: loss 'loss' is NaN/);
  assert.match((r.error as AblateError).hint ?? '', /iter-0000006\.safetensors \(iteration 6\)/);
  assert.deepEqual(listCheckpoints(r.runDir).map((c) => c.iteration), [3, 6]);
  const ev = records(r.runDir);
  assert.equal(ev.at(-1)!.status, 'FAILED');
  // No metrics were logged for the bad iteration.
  assert.ok(!ev.some((e) => e.t === 'metrics' && e.step === 7 && 'loss' in (e.m as object)));
});

test('the live tensor count is the same after every iteration (50 iterations, with eval and checkpoints)', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { trainer: { iterations: 50 }, checkpoint: { every: 7 }, evaluation: { every: 10 } });
  const counts: number[] = [];
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, onIteration: (_it, info) => counts.push(info.numTensors) });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  assert.equal(counts.length, 50);
  assert.deepEqual(new Set(counts).size, 1, `live tensors per iteration: ${[...new Set(counts)].join(', ')}`);
});

test('a failing component build ends the run FAILED with the error', async () => {
  const out = tmp();
  const exp = tinyExperiment(out);
  (exp.config.model as Record<string, unknown>).type = 'no-such-model';
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quiet });
  assert.equal(r.status, 'FAILED');
  assert.match(r.error!.message, /unknown model type 'no-such-model'/);
  assert.ok(readdirSync(r.runDir).includes('config.yaml'));
});

/** The tiny experiment with the trainer that owns an EMA teacher. */
function teacherExperiment(out: string, evaluation: Record<string, unknown> = {}) {
  const e = tinyExperiment(out, { checkpoint: { every: 4, keep_last: 3 }, evaluation });
  e.config.trainer = { ...(e.config.trainer as Record<string, unknown>), type: 'test-teacher', decay: 0.7, teacher_name: 'teacher' };
  const canonicalYaml = `${JSON.stringify(e.config, null, 2)}\n`;
  return { ...e, canonicalYaml, hash: createHash('sha256').update(canonicalYaml).digest('hex') };
}

function logged(runDir: string, key: string, sub = ''): Map<number, number> {
  return new Map(records(runDir, sub).filter((e) => e.t === 'metrics' && key in (e.m as object)).map((e) => [e.step as number, (e.m as Record<string, number>)[key]!]));
}

test("a trainer's own network and the step generator survive checkpoint → resume bit for bit", async () => {
  const out = tmp();
  const exp = teacherExperiment(out);
  const full = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, runDir: path.join(out, 'full') });
  assert.equal(full.status, 'FINISHED', full.error?.message);
  const ctrl = new AbortController();
  const part = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, runDir: path.join(out, 'split'), signal: ctrl.signal, onIteration: (it) => it === 6 && ctrl.abort() });
  assert.equal(part.iteration, 7);
  const resumed = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, resume: part.runDir });
  assert.equal(resumed.status, 'FINISHED', resumed.error?.message);

  const a = readSafetensors(listCheckpoints(full.runDir).at(-1)!.tensorsFile).tensors;
  const b = readSafetensors(listCheckpoints(part.runDir).at(-1)!.tensorsFile).tensors;
  assert.ok(a.has('trainer/teacher/conv.weight') && a.has('trainer/teacher/bn.running_mean'), [...a.keys()].join(', '));
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, t] of a) assert.deepEqual(Array.from(b.get(k)!.data), Array.from(t.data), `tensor ${k} differs after resume`);
  assert.notDeepEqual(Array.from(a.get('trainer/teacher/conv.weight')!.data), Array.from(a.get('model/conv.weight')!.data), 'the teacher lags the model');

  // The generator: the resumed run draws at iterations 7..11 what the uninterrupted run drew.
  const drawsFull = logged(full.runDir, 'draw');
  const drawsResumed = new Map([...logged(part.runDir, 'draw')].filter(([it]) => it >= 7));
  assert.deepEqual([...drawsResumed.keys()], [7, 8, 9, 10, 11]);
  for (const [it, v] of drawsResumed) assert.equal(v, drawsFull.get(it), `draw at iteration ${it}`);
  assert.equal(new Set(drawsFull.values()).size, 12, 'a fresh number every step');
  const meta = (f: string) => JSON.parse(readFileSync(f, 'utf8')) as { rngState?: number };
  assert.equal(meta(listCheckpoints(part.runDir).at(-1)!.metaFile).rngState, meta(listCheckpoints(full.runDir).at(-1)!.metaFile).rngState);
});

test("evaluation.network scores a trainer's network, and `ablate eval --network` likewise", async () => {
  const { evaluateCheckpoint } = await import('../../src/engine/eval-run.js');
  const { findCheckpoint } = await import('../../src/engine/checkpoint.js');
  const out = tmp();
  const onModel = await runExperiment(teacherExperiment(out), { registry: tinyRegistry(), log: quiet, runDir: path.join(out, 'model') });
  const onTeacher = await runExperiment(teacherExperiment(out, { network: 'teacher' }), { registry: tinyRegistry(), log: quiet, runDir: path.join(out, 'teacher') });
  assert.equal(onTeacher.status, 'FINISHED', onTeacher.error?.message);
  assert.notEqual(onTeacher.metrics.pixel_acc, onModel.metrics.pixel_acc, 'the teacher (different weights) scores differently');

  const ckpt = findCheckpoint(onModel.runDir);
  const exp = teacherExperiment(out);
  const evalOf = (network?: string) => evaluateCheckpoint(exp, ckpt, { registry: tinyRegistry(), log: quiet, outDir: path.join(out, `eval-${network ?? 'default'}`), ...(network ? { network } : {}) });
  const asModel = await evalOf();
  const asTeacher = await evalOf('teacher');
  assert.equal(asModel.network, 'model');
  assert.equal(asModel.scalars.pixel_acc, onModel.metrics.pixel_acc, 'eval of the checkpoint repeats the run\'s last evaluation');
  assert.equal(asTeacher.scalars.pixel_acc, onTeacher.metrics.pixel_acc, 'the same teacher weights as the run that evaluated it');
  await assert.rejects(evalOf('teachr'), (e: unknown) => {
    assert.ok(e instanceof AblateError);
    assert.equal(e.code, 'run.unknown-network');
    assert.match(e.hint ?? '', /did you mean 'teacher'/);
    return true;
  });
});

test('a wrong evaluation.network fails before training; a trainer network named like a slot is refused', async () => {
  const out = tmp();
  const bad = await runExperiment(teacherExperiment(out, { network: 'nope' }), { registry: tinyRegistry(), log: quiet });
  assert.equal(bad.status, 'FAILED');
  assert.equal(bad.iteration, 0);
  assert.match(bad.error?.message ?? '', /evaluation.network names 'nope'/);
  // The failed run's trainer released its own network: the same trainer builds again in this process.
  const again = await runExperiment(teacherExperiment(out), { registry: tinyRegistry(), log: quiet });
  assert.equal(again.status, 'FINISHED', again.error?.message);
  const clash = teacherExperiment(out);
  (clash.config.trainer as Record<string, unknown>).teacher_name = 'optimizer';
  const r = await runExperiment(clash, { registry: tinyRegistry(), log: quiet });
  assert.equal(r.status, 'FAILED');
  assert.match(r.error?.message ?? '', /network 'optimizer' has the name of the experiment's slot/);
});

test("the engine steps every scheduler slot and logs every optimizer slot's learning rates, a pack's included", async () => {
  const { definePack } = await import('../../src/index.js');
  const registry = tinyRegistry();
  registry.register(
    definePack({
      name: 'test-aux',
      plugins: [],
      slots: {
        aux_optimizer: { kind: 'optimizer', target: 'model', description: 'Test: a second optimizer of the model.' },
        aux_scheduler: { kind: 'scheduler', target: 'aux_optimizer', default: { type: 'constant' }, description: 'Test: its schedule.' },
      },
    }),
    'test',
  );
  const out = tmp();
  const e = tinyExperiment(out, { trainer: { iterations: 3 } });
  e.config.aux_optimizer = { type: 'test-sgd', lr: 1, momentum: 0 };
  e.config.aux_scheduler = { type: 'constant', lr: 0.02 };
  const r = await runExperiment(e, { registry, log: quiet });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  const lrs = logged(r.runDir, 'lr/aux_optimizer/all');
  assert.deepEqual([...lrs.values()], [0.02, 0.02, 0.02], 'the pack slot’s schedule ran and its lr was logged');
  assert.deepEqual([...logged(r.runDir, 'lr/all').values()], [0.5, 0.5, 0.5]);
});
