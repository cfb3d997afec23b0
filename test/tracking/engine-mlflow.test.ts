/**
 * End to end: the engine trains a tiny 2-cell sweep with `trackers: [{type: mlflow}, {type:
 * console}]` against the real server; the parent/child nesting, flattened params, step metrics,
 * artifacts and the report are read back from MLflow, and the console printed the same runs. Then
 * `report` on the local sweep folder gives the same table. The former `tracker:` spelling, loaded
 * from a file, still logs to MLflow; `ablate sync --to mlflow` replays a run recorded locally only.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSweep, type SweepCellInput } from '../../src/engine/sweep.js';
import { MlflowClient, fromKv } from '../../plugins/trackers/mlflow/client.js';
import { RUN_ID_TAG, readShipState } from '../../plugins/trackers/mlflow/shipper.js';
import { mlflowMetricKey } from '../../plugins/trackers/mlflow/metric-names.js';
import { runReport } from '../../src/cli/commands/report.js';
import { runSync } from '../../src/cli/commands/sync.js';
import { resolveRunFolder } from '../../src/cli/latest.js';
import { loadExperiment } from '../../src/config/load.js';
import { runExperiment } from '../../src/engine/run.js';
import { fileURLToPath } from 'node:url';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';
import { serverForTests } from './mlflow-server.js';
import { quietLog, recordingLog } from '../support/log.js';
import { writeTinyExperiment } from '../support/tiny-experiment-file.js';
import { mlflowEntry } from '../support/mlflow-entry.js';

const { server, skip } = await serverForTests();
after(async () => {
  await server?.stop();
});

function cells(out: string, uri: string): SweepCellInput[] {
  return [0.5, 0.05].map((lr) => {
    const e = tinyExperiment(out, { trainer: { iterations: 6 } });
    (e.config.optimizer as Record<string, unknown>).lr = lr;
    (e.config.scheduler as Record<string, unknown>).lr = lr;
    e.config.trackers = [mlflowEntry(uri), { type: 'console', every: 1 }];
    const canonicalYaml = `${JSON.stringify(e.config, null, 2)}\n`;
    return { name: `lr=${lr}`, labels: { lr }, diff: { 'optimizer.lr': lr }, experiment: { ...e, canonicalYaml, hash: `${lr === 0.5 ? 'a' : 'b'}${e.hash.slice(1)}` } };
  });
}

test('engine sweep logged to a real MLflow server: nesting, params, metrics, artifacts, report', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-e2e-'));
  const printed: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  // The console sink prints to stdout: keep its lines (node:test reports on stdout too, so only
  // lines of the console sink's own shape are kept, and the rest passed through).
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    const text = String(chunk);
    if (/^(run |1\/2|1\/20|sweep:)/.test(text)) printed.push(...text.trimEnd().split('\n'));
    else return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
    return true;
  }) as typeof process.stdout.write;
  let r;
  try {
    r = await runSweep(cells(out, uri), { registry: tinyRegistry(), file: 'lr-sweep.yaml', log: quietLog, out: () => {} });
  } finally {
    process.stdout.write = write;
  }
  assert.equal(r.status, 'FINISHED', JSON.stringify(r.cells));

  const client = new MlflowClient(uri);
  const parentState = readShipState(r.sweepDir, uri)!;
  assert.ok(parentState?.done, 'the sweep parent run was shipped completely');
  const parent = await client.getRun(parentState.runId);
  assert.equal(parent.info.status, 'FINISHED');
  assert.equal(fromKv(parent.data.params)['sweep.axis.lr'], '0.5, 0.05');
  assert.deepEqual(parent.data.metrics ?? [], [], 'no by-index cell metrics on the parent');
  const kids = await client.searchRuns([parentState.experimentId], `tags.\`mlflow.parentRunId\` = '${parentState.runId}'`);
  assert.equal(kids.length, 2);
  for (const c of r.cells) {
    const kid = kids.find((k) => k.info.run_id === readShipState(c.runDir!, uri)?.runId)!;
    assert.ok(kid, `${c.name} is on the server`);
    assert.equal(kid.info.status, 'FINISHED');
    const params = fromKv(kid.data.params);
    assert.equal(params['optimizer.lr'], c.name === 'lr=0.5' ? '0.5' : '0.05', 'flattened config as params');
    assert.equal(params['trainer.type'], 'test-supervised');
    assert.equal(params['sweep.lr'], c.name === 'lr=0.5' ? '0.5' : '0.05', 'the sweep axis is a param');
    assert.equal(kid.info.run_name, c.name === 'lr=0.5' ? '1/2' : '1/20', 'the short run name');
    const tags = fromKv(kid.data.tags);
    assert.ok(tags[RUN_ID_TAG], 'client run id tag');
    assert.ok(tags['ablate.config_hash'], 'config hash tag');
    assert.ok(tags['ablate.node_version'], 'provenance tags');
    assert.equal(tags['mlflow.source.name'], tags['ablate.source.name'], "ablate's system tags also under MLflow's names");
    assert.equal(tags['mlflow.source.git.commit'], tags['ablate.git.commit']);
    const metricKeys = (kid.data.metrics ?? []).map((m) => m.key);
    const lossKey = metricKeys.find((k) => /loss/.test(k));
    assert.ok(lossKey, `a loss metric among ${metricKeys.join(', ')}`);
    const hist = await client.getMetricHistory(kid.info.run_id, lossKey!);
    assert.ok(hist.length >= 2 && new Set(hist.map((h) => h.step)).size === hist.length, 'step-wise loss history');
    const files = (await client.listArtifactsRecursive(kid.info.run_id)).map((f) => f.path);
    assert.ok(files.some((f) => f.endsWith('config.yaml')), `resolved config artifact among ${files.join(', ')}`);
  }

  // The same table from the server (by the parent's MLflow id) and from the local folders.
  const spec = { cols: 'params.optimizer.lr', metric: 'pixel_acc,acc', png: false } as const;
  const fromServer = await runReport(parentState.runId, { ...spec, trackingUri: uri, out: path.join(out, 'rep1') }, () => undefined);
  const fromLocal = await runReport(r.sweepDir, { ...spec, out: path.join(out, 'rep2') }, () => undefined);
  assert.deepEqual([...fromServer.table.cols.levels].sort(), ['0.05', '0.5']);
  assert.equal(fromServer.table.cells.length, 2);
  assert.deepEqual(fromLocal.table.cells, fromServer.table.cells);

  // The console sink saw the same runs: the parent and both cells, their metrics and their end.
  // Trackers show a cell by its short name (both lr values are reciprocals: 1/2, 1/20).
  for (const shown of ['1/2', '1/20']) {
    assert.ok(printed.some((l) => l.startsWith(`run ${shown} `)), `console announced ${shown}:\n${printed.join('\n')}`);
    assert.ok(printed.some((l) => l.startsWith(`${shown} step `) && /loss=/.test(l)), `console printed ${shown}'s metrics`);
    assert.ok(printed.includes(`${shown}: FINISHED`), `console printed ${shown}'s end`);
  }
  assert.ok(printed.some((l) => l.startsWith('run sweep:')), 'console announced the sweep parent');
});

function experimentFile(dir: string, trackerLines: string[]): string {
  return writeTinyExperiment(
    dir,
    { name: 'tracking-spellings', trainer: { type: 'test-supervised', iterations: 4 } },
    { header: ['yaml-language-server: $schema=../schemas/experiment.schema.json', 'A tiny run that checks how trackers are spelled.'], tail: trackerLines },
  );
}

test('the former `tracker: {type: mlflow}` spelling still logs the run to MLflow', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-old-spelling-'));
  const resolved = await loadExperiment(experimentFile(dir, ['tracker:', '  type: mlflow', `  tracking_uri: ${uri}`, '  flush_interval_ms: 200']));
  assert.deepEqual(resolved.config.trackers, [{ type: 'mlflow', tracking_uri: uri, flush_interval_ms: 200, flush_timeout_s: 60, start_timeout_s: 10 }]);
  const log = recordingLog();
  const run = await runExperiment(resolved, { log, runName: 'old-spelling' });
  assert.equal(run.status, 'FINISHED');
  const state = readShipState(run.runDir, uri);
  assert.ok(state?.done, 'the run was shipped completely');
  // A live-logged run says where its page is.
  assert.ok(log.infos.includes(`MLflow: old-spelling at ${uri.replace(/\/+$/, '')}/#/experiments/${state.experimentId}/runs/${state.runId}`), log.infos.join('\n'));
  const got = await new MlflowClient(uri).getRun(state.runId);
  assert.equal(got.info.status, 'FINISHED');
  assert.equal(got.info.run_name, 'old-spelling');
  // The run page's description is the file's header comment (not its schema modeline).
  assert.equal(fromKv(got.data.tags)['mlflow.note.content'], 'A tiny run that checks how trackers are spelled.');
  // System metrics under MLflow's own keys (its System metrics tab), sampled at the first iteration.
  const keys = (got.data.metrics ?? []).map((m) => m.key);
  for (const k of ['system/cpu_utilization_percentage', 'system/system_memory_usage_megabytes', 'system/system_memory_usage_percentage', 'system/process_memory_usage_megabytes']) assert.ok(keys.includes(k), `${k} among ${keys.join(', ')}`);
  const memory = (got.data.metrics ?? []).find((m) => m.key === 'system/system_memory_usage_percentage')!.value;
  assert.ok(memory > 0 && memory <= 100, `memory ${memory} %`);
  assert.equal(fromKv(got.data.tags)[RUN_ID_TAG], run.runId);
  const params = fromKv(got.data.params);
  assert.equal(params['trackers.0.type'], 'mlflow', 'the resolved (new) spelling is what was logged');
  assert.equal(params['tracker.type'], undefined);
});

test('`ablate sync --to mlflow` replays a run that was recorded locally only', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-sync-local-'));
  const saved = process.env.MLFLOW_TRACKING_URI;
  delete process.env.MLFLOW_TRACKING_URI;
  let run;
  try {
    // `auto` without a tracking URI: the record alone.
    run = await runExperiment(await loadExperiment(experimentFile(dir, ['trackers: [{type: auto}]'])), { log: quietLog, runName: 'offline-then-synced' });
  } finally {
    if (saved !== undefined) process.env.MLFLOW_TRACKING_URI = saved;
  }
  assert.equal(run.status, 'FINISHED');
  assert.equal(readShipState(run.runDir, uri), undefined, 'nothing was shipped during the run');
  const lines: string[] = [];
  const results = await runSync(path.join(dir, 'runs'), { to: 'mlflow', trackingUri: uri }, (l) => void lines.push(l));
  assert.deepEqual(results.map((x) => x.outcome), ['synced']);
  assert.match(lines.at(-1)!, /1 run\(s\) in .*: 1 synced, 0 up to date, 0 still running, 0 failed -> mlflow/);
  const state = readShipState(run.runDir, uri)!;
  const client = new MlflowClient(uri);
  const got = await client.getRun(state.runId);
  assert.equal(got.info.status, 'FINISHED');
  assert.equal(fromKv(got.data.tags)[RUN_ID_TAG], run.runId);
  // Every point of the record arrived, under its MLflow name (docs/tracking.md: train/, val/, sys/).
  const points = new Map<string, number>();
  for (const line of readFileSync(path.join(run.runDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n')) {
    const e = JSON.parse(line) as { t: string; m?: Record<string, unknown> };
    if (e.t === 'metrics') for (const k of Object.keys(e.m!)) points.set(mlflowMetricKey(k, e.m!), (points.get(mlflowMetricKey(k, e.m!)) ?? 0) + 1);
  }
  for (const [key, n] of points) {
    const hist = await client.getMetricHistory(state.runId, key);
    assert.equal(hist.length, n, `every point of ${key} arrived`);
  }
  const keys = [...points.keys()];
  for (const k of ['val/pixel_acc', 'train/loss', 'train/lr/all', 'sys/it_per_sec', 'sys/it_per_sec_mean', 'sys/eval/seconds', 'sys/data/bad_samples', 'system/cpu_utilization_percentage']) {
    assert.ok(keys.includes(k), `${k} among ${keys.join(', ')}`);
  }
  // The run folder goes by its MLflow run id too (ablate eval, run --resume, sync, report).
  assert.equal(resolveRunFolder(path.join(dir, 'runs', state.runId)), run.runDir);
  const again = await runSync(path.join(dir, 'runs'), { to: 'mlflow', trackingUri: uri }, () => undefined);
  assert.deepEqual(again.map((x) => x.outcome), ['up-to-date']);
  await assert.rejects(runSync(path.join(dir, 'runs'), { to: 'mlfow', trackingUri: uri }, () => undefined), /unknown tracker type 'mlfow'[\s\S]*/);
});

test('`ablate sync <sweep folder>` ships the sweep with its cells, which live beside it', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-sync-sweep-'));
  const local = cells(out, uri).map((c) => ({ ...c, experiment: { ...c.experiment, config: { ...c.experiment.config, trackers: [{ type: 'local' }] } } }));
  const r = await runSweep(local, { registry: tinyRegistry(), file: 'offline-sweep.yaml', log: quietLog, out: () => {} });
  assert.equal(r.status, 'FINISHED');
  const lines: string[] = [];
  const results = await runSync(r.sweepDir, { to: 'mlflow', trackingUri: uri }, (l) => void lines.push(l));
  assert.deepEqual(results.map((x) => [path.basename(x.runDir), x.outcome]), [[path.basename(r.sweepDir), 'synced'], ...r.cells.map((c) => [path.basename(c.runDir!), 'synced'])]);
  const parent = readShipState(r.sweepDir, uri)!;
  const kids = await new MlflowClient(uri).searchRuns([parent.experimentId], `tags.\`mlflow.parentRunId\` = '${parent.runId}'`);
  assert.equal(kids.length, 2, 'both cells are under the synced parent');
});
