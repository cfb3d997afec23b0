/**
 * A resumed run continues the same tracker run, against the real MLflow server: one MLflow run
 * (reopened RUNNING, then FINISHED), no metric with two points at one step although the resumed
 * attempt recomputes the iterations between its checkpoint and the interruption, params not
 * logged again with other values, and the same histories and final metrics as an uninterrupted run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { canonicalize } from '../../src/config/canonical.js';
import { runExperiment } from '../../src/engine/run.js';
import { listCheckpoints } from '../../src/engine/checkpoint.js';
import { readRecord } from '../../src/tracking/record.js';
import { MlflowClient, fromKv } from '../../plugins/trackers/mlflow/client.js';
import { RUN_ID_TAG, readShipState } from '../../plugins/trackers/mlflow/shipper.js';
import { tinyExperiment, tinyRegistry } from '../support/tiny-plugins.js';
import { recordingLog } from '../support/log.js';
import { serverForTests } from './mlflow-server.js';
import { mlflowEntry } from '../support/mlflow-entry.js';

const { server, skip } = await serverForTests();
after(async () => {
  await server?.stop();
});

/** The tiny experiment logging to MLflow (the run identity recomputed for the changed config). */
function mlflowExperiment(out: string, uri: string, overrides: Parameters<typeof tinyExperiment>[1] = {}) {
  const e = tinyExperiment(out, { checkpoint: { every: 4, keep_last: 5 }, ...overrides });
  const c = canonicalize({ ...e.config, name: 'resume-test', trackers: [mlflowEntry(uri)] });
  return { ...e, config: c.canonical, canonicalYaml: c.yaml, hash: c.hash };
}

/** Runs until Ctrl-C after iteration `stopAfter`, then drops the interruption's checkpoint: the resume restarts from the periodic one before it (as after a crash). */
async function interruptedBeforeCheckpoint(exp: ReturnType<typeof mlflowExperiment>, runDir: string, stopAfter: number) {
  const ctrl = new AbortController();
  const part = await runExperiment(exp, { registry: tinyRegistry(), log: recordingLog(), runDir, signal: ctrl.signal, onIteration: (it) => it === stopAfter && ctrl.abort() });
  assert.equal(part.status, 'KILLED', part.error?.message);
  const last = listCheckpoints(runDir).at(-1)!;
  assert.equal(last.iteration, stopAfter + 1);
  rmSync(last.tensorsFile);
  rmSync(last.metaFile);
  return part;
}

async function histories(client: MlflowClient, runId: string): Promise<Map<string, { step: number; value: number }[]>> {
  const run = await client.getRun(runId);
  const out = new Map<string, { step: number; value: number }[]>();
  for (const m of run.data.metrics ?? []) out.set(m.key, (await client.getMetricHistory(runId, m.key)).map((p) => ({ step: Number(p.step), value: p.value })).sort((a, b) => a.step - b.step));
  return out;
}

test('a resumed run continues the same MLflow run: one run, FINISHED, each step once, the uninterrupted run\'s metrics', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-mlflow-resume-'));
  const exp = mlflowExperiment(out, uri);
  const client = new MlflowClient(uri);
  const full = await runExperiment(exp, { registry: tinyRegistry(), log: recordingLog(), runDir: path.join(out, 'full') });
  assert.equal(full.status, 'FINISHED', full.error?.message);

  // Stopped after iteration 6; the resume restarts at the checkpoint of iteration 4 and computes 4, 5, 6 again.
  const part = await interruptedBeforeCheckpoint(exp, path.join(out, 'split'), 6);
  const first = readShipState(part.runDir, uri)!;
  assert.ok(first.done);
  assert.equal((await client.getRun(first.runId)).info.status, 'KILLED');

  const log = recordingLog();
  // While the resumed attempt trains, its MLflow run is RUNNING again.
  let during: Promise<string | undefined> | undefined;
  const resumed = await runExperiment(exp, { registry: tinyRegistry(), log, resume: part.runDir, onIteration: (it) => void (it === 8 && (during = client.getRun(first.runId).then((r) => r.info.status))) });
  assert.equal(resumed.status, 'FINISHED', resumed.error?.message);
  assert.equal(await during, 'RUNNING');
  assert.equal(resumed.runId, part.runId, 'the same client run id');
  const state = readShipState(part.runDir, uri)!;
  assert.equal(state.runId, first.runId, 'the same MLflow run');
  assert.ok(state.done, 'everything shipped');

  const onServer = await client.searchRuns([state.experimentId], `tags.\`${RUN_ID_TAG}\` = '${part.runId}'`);
  assert.equal(onServer.length, 1, 'one MLflow run for both attempts');
  const run = await client.getRun(state.runId);
  assert.equal(run.info.status, 'FINISHED');
  assert.equal(run.info.run_name, 'resume-test', 'the run\'s own name, no "(resumed)" run');
  assert.equal(fromKv(run.data.tags)['ablate.resumed_from_iteration'], '4');
  assert.equal(fromKv(run.data.params)['optimizer.lr'], '0.5');
  assert.deepEqual(log.warnings.filter((w) => /refused|already logged/.test(w)), [], 'no param was sent again with another value');

  const got = await histories(client, state.runId);
  const want = await histories(client, readShipState(full.runDir, uri)!.runId);
  for (const [key, points] of got) assert.equal(new Set(points.map((p) => p.step)).size, points.length, `${key}: each step once (${points.map((p) => p.step).join(',')})`);
  assert.deepEqual(got.get('train/loss')!.map((p) => p.step), [...Array(12).keys()]);
  // Training metrics, the learning rate and the evaluation (MLflow's names): as in the uninterrupted run, step by step.
  for (const key of ['train/loss', 'train/lr/default', 'val/pixel_acc']) assert.deepEqual(got.get(key), want.get(key), key);

  // The record kept the recomputed points (not shipped): iterations 4, 5, 6.
  const events = readFileSync(path.join(part.runDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; step?: number; m?: Record<string, unknown> });
  assert.deepEqual(events.filter((e) => e.t === 'recomputed' && 'loss' in e.m!).map((e) => e.step), [4, 5, 6]);
  assert.deepEqual(readRecord(part.runDir).resumes.map((r) => r.iteration), [4]);
});

test('a resume with a changed learning rate keeps the run\'s param (write-once) and records the change as a tag', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-mlflow-resume-lr-'));
  const part = await interruptedBeforeCheckpoint(mlflowExperiment(out, uri), path.join(out, 'run'), 5);
  const lower = mlflowExperiment(out, uri, { optimizer: { lr: 0.05 }, scheduler: { lr: 0.05 } });
  const log = recordingLog();
  const resumed = await runExperiment(lower, { registry: tinyRegistry(), log, resume: part.runDir });
  assert.equal(resumed.status, 'FINISHED', resumed.error?.message);
  const run = await new MlflowClient(uri).getRun(readShipState(part.runDir, uri)!.runId);
  assert.equal(run.info.status, 'FINISHED');
  assert.equal(fromKv(run.data.params)['optimizer.lr'], '0.5', 'the first value stays');
  assert.equal(fromKv(run.data.tags)['ablate.resume_changes'], 'optimizer.lr 0.5 → 0.05; scheduler.lr 0.5 → 0.05');
  assert.ok(!log.warnings.some((w) => /MLflow refused/.test(w)), log.warnings.join('\n'));
  assert.ok(log.warnings.some((w) => /param 'optimizer\.lr' was already logged as '0\.5'; ignoring new value '0\.05'/.test(w)), log.warnings.join('\n'));
});
