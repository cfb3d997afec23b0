/**
 * NaN recovery (issue 17): a checkpoint holds finite numbers only, the error names the last finite
 * one, a resume may lower the learning rate (recorded with the iteration it took effect), changes
 * that would make the resume meaningless stay refused, and a damaged checkpoint is passed over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/engine/run.js';
import { findCheckpoint, listCheckpoints, readCheckpointMeta } from '../../src/engine/checkpoint.js';
import { readSafetensors } from '../../src/weights/safetensors.js';
import { AblateError } from '../../src/errors.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';
import { TINY_SCHEDULER, writeTinyExperiment } from '../support/tiny-experiment-file.js';

const quiet = { info() {}, warn() {}, debug() {} };
const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'ablate-nan-'));

function tags(runDir: string, sub = ''): Record<string, string> {
  const lines = readFileSync(path.join(runDir, sub, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return Object.assign({}, ...lines.filter((e) => e.t === 'tags').map((e) => e.tags));
}

/** Runs the tiny experiment until Ctrl-C after iteration `stopAfter` (a checkpoint at stopAfter+1). */
async function interrupted(exp: ReturnType<typeof tinyExperiment>, runDir: string, stopAfter: number) {
  const ctrl = new AbortController();
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quiet, runDir, signal: ctrl.signal, onIteration: (it) => it === stopAfter && ctrl.abort() });
  assert.equal(r.status, 'KILLED', r.error?.message);
  return r;
}

test('a training state with a non-finite value is never checkpointed; the error names the last finite checkpoint', async () => {
  const out = tmp();
  // Iteration 8 leaves +Infinity in the model's running statistic while its loss is finite: the
  // periodic checkpoint at 9 would hold it (before, it was written and later called "good").
  const exp = tinyExperiment(out, { trainer: { poison_state_at: 8 }, checkpoint: { every: 3, keep_last: 5 } });
  const r = await runExperiment(exp, { registry: tinyRegistry(), log: quiet });
  assert.equal(r.status, 'FAILED');
  assert.ok(r.error instanceof AblateError, String(r.error));
  assert.equal(r.error.code, 'checkpoint.non-finite');
  assert.match(r.error.message, /iteration 9: the training state holds 3 non-finite values \(model\/bn\.running_mean \(3\)\)/);
  assert.match(r.error.hint ?? '', /last finite checkpoint is .*iter-0000006\.safetensors \(iteration 6\).*--set optimizer\.lr=/);
  assert.deepEqual(listCheckpoints(r.runDir).map((c) => c.iteration), [3, 6]);
  for (const c of listCheckpoints(r.runDir)) {
    for (const [name, t] of readSafetensors(c.tensorsFile).tensors) assert.ok(Array.from(t.data as Float32Array).every(Number.isFinite), `${name} in ${c.tensorsFile}`);
  }
  assert.equal(r.checkpoint, listCheckpoints(r.runDir).at(-1)!.tensorsFile);
});

test('resume may change optimisation values: recorded in run.json, the tracker tags and the resumed config', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { checkpoint: { every: 4, keep_last: 3 } });
  const part = await interrupted(exp, path.join(out, 'run'), 5);
  const lower = tinyExperiment(out, { checkpoint: { every: 4, keep_last: 3 }, optimizer: { lr: 0.05 }, scheduler: { lr: 0.05 }, trainer: { loss_weight: 0.5 } });
  const warnings: string[] = [];
  const resumed = await runExperiment(lower, { registry: tinyRegistry(), log: { ...quiet, warn: (l: string) => warnings.push(l) }, resume: part.runDir });
  assert.equal(resumed.status, 'FINISHED', resumed.error?.message);
  assert.equal(resumed.iteration, 12);
  assert.match(warnings.join('\n'), /resuming at iteration 6 with changed optimisation values: optimizer\.lr 0\.5 → 0\.05; scheduler\.lr 0\.5 → 0\.05; trainer\.loss_weight \(unset\) → 0\.5/);

  const meta = JSON.parse(readFileSync(path.join(part.runDir, 'run.json'), 'utf8'));
  assert.equal(meta.hash, exp.hash, 'the run keeps its identity');
  assert.deepEqual(meta.resumes.map((r: { iteration: number; hash: string; config: string }) => [r.iteration, r.hash, r.config]), [[6, lower.hash, path.join('resume-0000006', 'config.yaml')]]);
  assert.deepEqual(meta.resumes[0].changes, [
    { key: 'optimizer.lr', from: 0.5, to: 0.05 },
    { key: 'scheduler.lr', from: 0.5, to: 0.05 },
    { key: 'trainer.loss_weight', to: 0.5 },
  ]);
  assert.equal(readFileSync(path.join(part.runDir, 'resume-0000006', 'config.yaml'), 'utf8'), lower.canonicalYaml);
  assert.equal(readFileSync(path.join(part.runDir, 'config.yaml'), 'utf8'), exp.canonicalYaml, 'the original config stays');
  const t = tags(part.runDir);
  assert.equal(t['ablate.resumed_from_iteration'], '6');
  assert.equal(t['ablate.resume_changes'], 'optimizer.lr 0.5 → 0.05; scheduler.lr 0.5 → 0.05; trainer.loss_weight (unset) → 0.5');
  // Checkpoints after the resume carry the new config's hash; the one resumed from, the old.
  assert.equal(readCheckpointMeta(listCheckpoints(part.runDir).at(-1)!).configHash, lower.hash);
});

test('resume refuses changes that would make it meaningless, naming each changed key', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { checkpoint: { every: 4, keep_last: 3 } });
  const part = await interrupted(exp, path.join(out, 'run'), 5);
  const cases: [Parameters<typeof tinyExperiment>[1], RegExp][] = [
    [{ model: { init_scale: 0.2 } }, /model\.init_scale 0\.1 → 0\.2/],
    [{ dataset: { train: 11 } }, /dataset\.train 10 → 11/],
    [{ optimizer: { type: 'sgd' } }, /optimizer\.type "test-sgd" → "sgd"/],
    [{ trainer: { iterations: 20 } }, /trainer\.iterations 12 → 20/],
    [{ trainer: { poison_state_at: 3 }, optimizer: { lr: 0.1 } }, /changes trainer\.poison_state_at \(unset\) → 3$/],
  ];
  for (const [overrides, message] of cases) {
    const other = tinyExperiment(out, { checkpoint: { every: 4, keep_last: 3 }, ...overrides });
    await assert.rejects(runExperiment(other, { registry: tinyRegistry(), log: quiet, resume: part.runDir }), (e: unknown) => {
      assert.ok(e instanceof AblateError, String(e));
      assert.equal(e.code, 'run.resume-mismatch');
      assert.match(e.message, message);
      return true;
    });
  }
  assert.ok(!existsSync(path.join(part.runDir, 'resume-0000006')), 'a refused resume writes nothing');
  assert.equal(JSON.parse(readFileSync(path.join(part.runDir, 'run.json'), 'utf8')).resumes, undefined);
});

test('a damaged checkpoint sidecar is a clean error; resuming a run folder falls back to the newest intact one', async () => {
  const out = tmp();
  const exp = tinyExperiment(out, { checkpoint: { every: 3, keep_last: 5 } });
  const part = await interrupted(exp, path.join(out, 'run'), 7);
  assert.deepEqual(listCheckpoints(part.runDir).map((c) => c.iteration), [3, 6, 8]);
  const newest = listCheckpoints(part.runDir).at(-1)!;
  writeFileSync(newest.metaFile, '{"format": 1, "iteration": 8, "configHa');

  // Named explicitly: a located error, no SyntaxError.
  assert.throws(() => readCheckpointMeta(findCheckpoint(newest.metaFile)), (e: unknown) => {
    assert.ok(e instanceof AblateError, String(e));
    assert.equal(e.code, 'checkpoint.corrupt');
    assert.match(e.message, /iter-0000008\.json is damaged: its sidecar is not JSON/);
    assert.equal(e.where?.file, newest.metaFile);
    return true;
  });
  // A run folder: the newest intact checkpoint, with a warning.
  const warnings: string[] = [];
  const resumed = await runExperiment(exp, { registry: tinyRegistry(), log: { ...quiet, warn: (l: string) => warnings.push(l) }, resume: part.runDir });
  assert.equal(resumed.status, 'FINISHED', resumed.error?.message);
  assert.match(warnings.join('\n'), /skipping damaged checkpoint .*iter-0000008\.json: its sidecar is not JSON/);
  assert.ok(readFileSync(path.join(part.runDir, 'tracking', 'record.jsonl'), 'utf8').includes('"t":"resume",'), 'continued the run');
  assert.match(readFileSync(path.join(part.runDir, 'tracking', 'record.jsonl'), 'utf8'), /"t":"resume",[^\n]*"iteration":6/, 'from iteration 6');

  // A tensor file cut short is damaged too.
  const last = listCheckpoints(part.runDir).at(-1)!;
  writeFileSync(last.tensorsFile, readFileSync(last.tensorsFile).subarray(0, 20));
  assert.notEqual(findCheckpoint(part.runDir).iteration, last.iteration);
});

test('the CLI path: an exploding lr stops at the last finite checkpoint; `--resume <run> --set optimizer.lr=…` recovers, and a later plain --resume keeps the lower lr', async () => {
  const { loadExperiment } = await import('../../src/config/load.js');
  const { resolveForRun } = await import('../../src/cli/commands/run.js');
  const dir = tmp();
  const file = writeTinyExperiment(dir, {
    name: 'recover',
    scheduler: TINY_SCHEDULER,
    metrics: undefined,
    trainer: { type: 'test-supervised', iterations: 12 },
    checkpoint: { every: 3, keep_last: 10 },
  }, { file: 'exp.yaml' });
  const ctrl = new AbortController();
  const first = await runExperiment(await loadExperiment(file), { log: quiet, signal: ctrl.signal, onIteration: (it) => it === 5 && ctrl.abort() });
  assert.equal(first.status, 'KILLED', first.error?.message);
  const runDir = first.runDir;
  // The learning rate explodes (float32 overflows): the run stops naming iteration 6's checkpoint.
  const exploding = await resolveForRun(undefined, { resume: runDir, set: ['optimizer.lr=1e39', 'scheduler.lr=1e39'] });
  const failed = await runExperiment(exploding, { log: quiet, resume: runDir });
  assert.equal(failed.status, 'FAILED');
  assert.match((failed.error as AblateError).hint ?? '', /iter-0000006\.safetensors \(iteration 6\)/);
  assert.deepEqual(listCheckpoints(runDir).map((c) => c.iteration), [3, 6]);
  // Resume from there with a lower one.
  const lower = await resolveForRun(undefined, { resume: path.join(runDir, 'checkpoints', 'iter-0000006.safetensors'), set: ['optimizer.lr=0.05', 'scheduler.lr=0.05'] });
  const recovered = await runExperiment(lower, { log: quiet, resume: path.join(runDir, 'checkpoints', 'iter-0000006.safetensors') });
  assert.equal(recovered.status, 'FINISHED', recovered.error?.message);
  const resumes = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')).resumes as { iteration: number; changes: { key: string; to: unknown }[] }[];
  assert.deepEqual(resumes.map((r) => [r.iteration, r.changes.map((c) => `${c.key}=${String(c.to)}`)]), [
    [6, ['optimizer.lr=1e+39', 'scheduler.lr=1e+39']],
    [6, ['optimizer.lr=0.05', 'scheduler.lr=0.05']],
  ]);
  // Each changed resume from iteration 6 keeps its own config (the retry did not overwrite the failed one's).
  assert.ok(existsSync(path.join(runDir, 'resume-0000006', 'config.yaml')));
  assert.equal(readFileSync(path.join(runDir, 'resume-0000006-2', 'config.yaml'), 'utf8'), lower.canonicalYaml);
  // The report reads the one record as one run whose last attempt finished.
  const { runsFromFolder } = await import('../../src/report/index.js');
  assert.deepEqual(runsFromFolder(runDir, 'last').map((r) => r.status), ['FINISHED']);
  // A plain --resume now reads the config the newest checkpoint was trained with (lr 0.05).
  const again = await resolveForRun(undefined, { resume: runDir });
  assert.equal((again.config.optimizer as Record<string, unknown>).lr, 0.05);
});
