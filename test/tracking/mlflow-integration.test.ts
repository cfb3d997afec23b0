/**
 * Against a REAL MLflow server (scripts/mlflow-server.mjs): a run, a 2-cell sweep, an outage in
 * the middle of a run, `sync` replays, chunked log-batch and racing experiment creation, all
 * read back through the REST API.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trackingWith } from '../../src/tracking/open.js';
import { syncRuns } from '../../src/tracking/sync.js';
import { MlflowClient, fromKv } from '../../plugins/trackers/mlflow/client.js';
import { RUN_ID_TAG, readShipState } from '../../plugins/trackers/mlflow/shipper.js';
import type { Logger } from '../../src/index.js';
import { MlflowSink, type MlflowSinkOptions } from '../../plugins/trackers/mlflow/index.js';
import { runReport } from '../../src/cli/commands/report.js';
import { cellAt } from '../../src/report/index.js';
import { serverForTests, startMlflowServer, type TestServer } from './mlflow-server.js';

const { server, skip } = await serverForTests();
const tmp = (p: string) => mkdtempSync(path.join(os.tmpdir(), `ablate-trk-${p}-`));
const quiet = (): Logger & { warnings: string[] } => {
  const warnings: string[] = [];
  return { warnings, info: () => undefined, warn: (m) => void warnings.push(m), debug: () => undefined };
};
/** Tracking with the MLflow sink alone (what `trackers: [{type: mlflow}]` opens). */
const mlflowTracking = (opts: MlflowSinkOptions) => trackingWith([{ name: 'mlflow', sink: new MlflowSink(opts) }], opts.log);
/** Tracking with no sink: the local record only. */
const localTracking = () => trackingWith([], quiet());
const toMlflow = (uri: string, log: Logger = quiet()) => ({ name: 'mlflow', sink: new MlflowSink({ trackingUri: uri, log }) });

after(async () => {
  await server?.stop();
});

describe('MLflow integration', { skip }, () => {
  let client: MlflowClient;
  before(async () => {
    client = new MlflowClient(server!.uri);
    const v = await client.version();
    process.stderr.write(`MLflow server ${v} at ${server!.uri} (started in ${server!.startupMs} ms)\n`);
  });

  test('a run: params, step metrics, NaN/Inf, tags, artifacts, inputs, long values', async () => {
    const log = quiet();
    const tracker = mlflowTracking({ trackingUri: server!.uri, log, intervalMs: 100 });
    const runDir = tmp('run');
    const long = 'v'.repeat(7000);
    const run = await tracker.startRun({
      name: 'deeplab-r18',
      experiment: 'it-run',
      params: { 'model.depth': '18', 'optim.lr': '0.00025', 'model.rates': '[6,12]', 'notes.long': long },
      tags: { 'ablate.config_hash': 'abc123' },
      runDir,
    });
    for (let step = 0; step < 120; step++) {
      run.logMetrics(step, { 'train/loss': 1 / (step + 1), 'lr/group0': 0.00025 * (1 - step / 120) });
    }
    run.logMetrics(120, { 'val/miou': NaN, 'val/bad': Infinity });
    const cfg = path.join(runDir, 'resolved.yaml');
    writeFileSync(cfg, 'model:\n  depth: 18\n');
    run.logArtifact(cfg, 'config');
    const imgs = path.join(runDir, 'grid');
    mkdirSync(imgs);
    writeFileSync(path.join(imgs, 'a.txt'), 'A');
    writeFileSync(path.join(imgs, 'b.txt'), 'B');
    run.logArtifact(imgs);
    run.logInput!({ name: 'mini-voc', digest: 'd41d8cd9', source: '/data/mini-voc', context: 'training' });
    await run.end('FINISHED');
    await tracker.close();

    const state = readShipState(runDir, server!.uri)!;
    assert.ok(state.done, 'shipper reached the end event');
    const got = await client.getRun(state.runId);
    assert.equal(got.info.status, 'FINISHED');
    assert.equal(got.info.run_name, 'deeplab-r18');
    const params = fromKv(got.data.params);
    assert.equal(params['model.depth'], '18');
    assert.equal(params['model.rates'], '[6,12]');
    assert.ok(params['notes.long']!.length <= 6000 && params['notes.long']!.includes('full value in artifact'));
    assert.ok(log.warnings.some((w) => w.includes("'notes.long'")), 'long value warned about');
    const tags = fromKv(got.data.tags);
    assert.equal(tags[RUN_ID_TAG], run.id);
    assert.equal(tags['ablate.config_hash'], 'abc123');
    assert.equal(tags['mlflow.source.type'], 'LOCAL');
    const loss = await client.getMetricHistory(state.runId, 'train/loss');
    assert.equal(loss.length, 120);
    assert.deepEqual(loss.map((m) => m.step).sort((a, b) => a - b), Array.from({ length: 120 }, (_, i) => i));
    assert.ok(Math.abs(loss.find((m) => m.step === 9)!.value - 0.1) < 1e-12);
    const miou = await client.getMetricHistory(state.runId, 'val/miou');
    assert.ok(Number.isNaN(miou[0]!.value), 'NaN round-trips');
    const bad = await client.getMetricHistory(state.runId, 'val/bad');
    assert.ok(bad[0]!.value > 1e300, 'Infinity stored (SQL stores keep it as the largest double)');
    const files = (await client.listArtifactsRecursive(state.runId)).map((f) => f.path).sort();
    assert.deepEqual(files, ['ablate/long-values/params/notes.long.txt', 'config/resolved.yaml', 'grid/a.txt', 'grid/b.txt']);
    const full = await client.downloadArtifact(got.info.artifact_uri!, 'ablate/long-values/params/notes.long.txt');
    assert.equal(full.toString(), long);
    const inputs = got.inputs?.dataset_inputs ?? [];
    assert.equal(inputs.length, 1);
    assert.equal(inputs[0]!.dataset.name, 'mini-voc');
    assert.equal(fromKv(inputs[0]!.tags)['mlflow.data.context'], 'training');
  });

  test('a 2-cell sweep: parent run, child runs nested with mlflow.parentRunId, axes as params', async () => {
    const tracker = mlflowTracking({ trackingUri: server!.uri, log: quiet(), intervalMs: 100 });
    const sweepDir = tmp('sweep');
    const parent = await tracker.startRun({ name: 'paper-table', experiment: 'it-sweep', params: { 'sweep.axes': 'dataset.labeled_fraction' }, tags: { 'ablate.sweep': 'paper-table' }, runDir: sweepDir });
    const childIds: string[] = [];
    for (const frac of ['0.125', '0.5']) {
      const child = await tracker.startRun({
        name: `labeled_fraction=${frac}`,
        experiment: 'it-sweep',
        params: { 'dataset.labeled_fraction': frac, 'trainer.type': 'adversarial' },
        tags: {},
        runDir: path.join(sweepDir, `cell-${frac}`),
        parentRunId: parent.id,
      });
      child.logMetrics(10, { 'val/miou': Number(frac) });
      await child.end('FINISHED');
      childIds.push(child.id);
    }
    await parent.end('FINISHED');
    await tracker.close();

    const parentState = readShipState(sweepDir, server!.uri)!;
    const exp = await client.getExperimentByName('it-sweep');
    const children = await client.searchRuns([exp!.experiment_id], `tags.\`mlflow.parentRunId\` = '${parentState.runId}'`);
    assert.equal(children.length, 2);
    const fracs = children.map((r) => fromKv(r.data.params)['dataset.labeled_fraction']).sort();
    assert.deepEqual(fracs, ['0.125', '0.5']);
    for (const c of children) assert.equal(c.info.status, 'FINISHED');
    assert.deepEqual(children.map((c) => fromKv(c.data.tags)[RUN_ID_TAG]).sort(), [...childIds].sort());
  });

  test('outage: the server stops mid-run and comes back on the same store; no metric is lost', async () => {
    const dir = tmp('outage-store');
    let s: TestServer = await startMlflowServer({ dir });
    try {
      const log = quiet();
      const tracker = mlflowTracking({ trackingUri: s.uri, log, intervalMs: 100, flushTimeoutMs: 60_000 });
      const runDir = tmp('outage-run');
      const run = await tracker.startRun({ name: 'outage', experiment: 'it-outage', params: { a: '1' }, tags: {}, runDir });
      for (let i = 0; i < 50; i++) run.logMetrics(i, { loss: i });
      await run.flush();
      await s.stop();
      const t0 = Date.now();
      for (let i = 50; i < 150; i++) run.logMetrics(i, { loss: i }); // server down: must not block
      const loggingMs = Date.now() - t0;
      assert.ok(loggingMs < 2000, `logging while the server is down took ${loggingMs} ms`);
      await new Promise((r) => setTimeout(r, 1500)); // let the shipper fail a few times
      s = await startMlflowServer({ dir, port: s.port });
      for (let i = 150; i < 200; i++) run.logMetrics(i, { loss: i });
      await run.end('FINISHED');
      await tracker.close();
      const st = readShipState(runDir, s.uri)!;
      const c = new MlflowClient(s.uri);
      const hist = await c.getMetricHistory(st.runId, 'train/loss');
      const steps = [...new Set(hist.map((m) => m.step))].sort((a, b) => a - b);
      assert.deepEqual(steps, Array.from({ length: 200 }, (_, i) => i), 'every step arrived');
      for (const m of hist) assert.equal(m.value, m.step);
      assert.equal((await c.getRun(st.runId)).info.status, 'FINISHED');
      assert.ok(log.warnings.some((w) => /cannot reach|logging continues locally/.test(w)), 'the outage was reported');
    } finally {
      await s.stop();
    }
  });

  test('sync: a local run and a local sweep replay idempotently', async () => {
    const root = tmp('sync');
    const local = localTracking();
    const parent = await local.startRun({ name: 'sweep', experiment: 'it-sync', params: {}, tags: {}, runDir: root });
    for (const seed of ['0', '1']) {
      const r = await local.startRun({ name: `seed=${seed}`, experiment: 'it-sync', params: { seed }, tags: {}, runDir: path.join(root, `seed-${seed}`), parentRunId: parent.id });
      for (let i = 0; i < 300; i++) r.logMetrics(i, { 'train/loss': i / 300, 'train/acc': 1 - i / 300 });
      await r.end('FINISHED');
    }
    await parent.end('FINISHED');

    const t0 = performance.now();
    const first = await syncRuns(root, toMlflow(server!.uri));
    const syncMs = performance.now() - t0;
    assert.deepEqual(first.map((r) => r.outcome), ['synced', 'synced', 'synced']);
    const t1 = performance.now();
    const second = await syncRuns(root, toMlflow(server!.uri));
    const resyncMs = performance.now() - t1;
    assert.deepEqual(second.map((r) => r.outcome), ['up-to-date', 'up-to-date', 'up-to-date']);
    process.stderr.write(`sync of 3 runs (1200 metric points): ${syncMs.toFixed(0)} ms; re-sync: ${resyncMs.toFixed(0)} ms\n`);

    // A machine without the saved state (e.g. a copied folder) must still not duplicate runs.
    const { rmSync, readdirSync } = await import('node:fs');
    for (const d of [root, path.join(root, 'seed-0'), path.join(root, 'seed-1')]) {
      for (const f of readdirSync(path.join(d, 'tracking'))) if (f.startsWith('shipped-')) rmSync(path.join(d, 'tracking', f));
    }
    await syncRuns(root, toMlflow(server!.uri));
    const exp = await client.getExperimentByName('it-sync');
    const runs = await client.searchRuns([exp!.experiment_id]);
    assert.equal(runs.length, 3, 'no duplicate runs after a stateless re-sync');
    const parentRun = runs.find((r) => r.info.run_name === 'sweep')!;
    const kids = runs.filter((r) => fromKv(r.data.tags)['mlflow.parentRunId'] === parentRun.info.run_id);
    assert.equal(kids.length, 2);
    const hist = await client.getMetricHistory(kids[0]!.info.run_id, 'train/loss');
    assert.equal(hist.length, 300, 'no duplicate metric points after re-sending');
  });

  test("report from MLflow: by the sweep parent's MLflow run id, by ablate's run id (any experiment) and by experiment name", async () => {
    const tracker = mlflowTracking({ trackingUri: server!.uri, log: quiet(), intervalMs: 100 });
    const dir = tmp('report');
    const parent = await tracker.startRun({ name: 'table', experiment: 'it-report', params: {}, tags: {}, runDir: dir });
    const want: Record<string, number[]> = {};
    for (const method of ['supervised', 'adversarial']) {
      for (const frac of ['0.25', '1']) {
        for (const seed of ['1', '2']) {
          const v = (method === 'supervised' ? 0.6 : 0.65) + 0.1 * Number(frac) + 0.01 * Number(seed);
          const name = `${method}-${frac}-${seed}`;
          const child = await tracker.startRun({ name, experiment: 'it-report', params: { 'trainer.type': method, 'dataset.labeled_fraction': frac, seed }, tags: {}, runDir: path.join(dir, name), parentRunId: parent.id });
          child.logMetrics(50, { 'val/miou': v });
          await child.end('FINISHED');
          (want[`${method}|${frac}`] ??= []).push(v * 100);
        }
      }
    }
    await parent.end('FINISHED');
    await tracker.close();
    const parentRunId = readShipState(dir, server!.uri)!.runId;
    // ablate's own run id: not in the default experiment '0', so found only by searching every experiment.
    for (const target of [parentRunId, parent.id, 'it-report']) {
      const layout = { rows: 'params.trainer.type', cols: 'params.dataset.labeled_fraction', over: 'params.seed', metric: 'val/miou' };
      const { table, markdown } = await runReport(target, { trackingUri: server!.uri, out: tmp('report-out'), png: false, ...layout }, () => undefined);
      assert.deepEqual(table.rows.levels, ['supervised', 'adversarial'], target);
      assert.deepEqual(table.cols.levels, ['0.25', '1']);
      for (const [k, vals] of Object.entries(want)) {
        const [m, f] = k.split('|') as [string, string];
        const mean = vals.reduce((a, b) => a + b, 0) / vals.length;
        assert.ok(Math.abs(cellAt(table, m, f)!.mean - mean) < 1e-9, `${target} ${k}`);
      }
      assert.match(markdown, /\| params\.trainer\.type \\ params\.dataset\.labeled_fraction \| 1\/4 \| 1 \|/);
    }
  });

  test('a request the server refuses does not block the rest (changed param in a hand-edited record)', async () => {
    const dir = tmp('refused');
    const local = localTracking();
    const run = await local.startRun({ name: 'refused', experiment: 'it-refused', params: { a: '1' }, tags: {}, runDir: dir });
    const { appendFileSync } = await import('node:fs');
    run.logMetrics(0, { loss: 1 });
    await run.flush();
    // Bypass the writer's write-once check, as a resumed or hand-merged record could.
    appendFileSync(path.join(dir, 'tracking', 'record.jsonl'), `${JSON.stringify({ t: 'params', p: { a: '2', b: '3' } })}\n`);
    run.logMetrics(1, { loss: 0.5 });
    await run.end('FINISHED');
    const warnings: string[] = [];
    const log = { ...quiet(), warn: (w: string) => void warnings.push(w) };
    const res = await syncRuns(dir, toMlflow(server!.uri, log), { warn: (w) => void warnings.push(w) });
    assert.equal(res[0]!.outcome, 'synced');
    const got = await client.getRun(readShipState(dir, server!.uri)!.runId);
    assert.deepEqual(fromKv(got.data.params), { a: '1', b: '3' });
    assert.equal(got.info.status, 'FINISHED');
    assert.equal((await client.getMetricHistory(got.info.run_id, 'train/loss')).length, 2);
    assert.ok(warnings.some((w) => w.includes("refused param 'a'")), warnings.join('\n'));
  });

  test('log-batch chunking: 5000 metrics and 250 params in one call, all stored', async () => {
    const expId = await client.getOrCreateExperiment('it-batch');
    const run = await client.createRun({ experimentId: expId, runName: 'batch' });
    const now = Date.now();
    const metrics = Array.from({ length: 5000 }, (_, i) => ({ key: `m${i % 5}`, value: i, timestamp: now, step: Math.floor(i / 5) }));
    const params = Array.from({ length: 250 }, (_, i) => ({ key: `p${i}`, value: String(i) }));
    const t0 = performance.now();
    const requests = await client.logBatchChunked(run.info.run_id, { metrics, params });
    const ms = performance.now() - t0;
    assert.equal(requests, 8, '100+100+(50 params+950 metrics)+4×1000+50 metrics: the 1000-entity cap holds');
    process.stderr.write(`log-batch: 5000 metrics + 250 params in ${requests} requests, ${ms.toFixed(0)} ms (${(5000 / (ms / 1000)).toFixed(0)} metrics/s)\n`);
    const got = await client.getRun(run.info.run_id);
    assert.equal(got.data.params?.length, 250);
    assert.equal((await client.getMetricHistory(run.info.run_id, 'm3')).length, 1000);
  });

  test('report errors are clear: an unknown target, and a server that cannot be reached', async () => {
    await assert.rejects(runReport('0123456789abcdef0123456789abcdef', { trackingUri: server!.uri, out: tmp('report-none'), png: false }, () => undefined), /'0123456789abcdef0123456789abcdef' is neither an experiment on .*, nor a run id there/);
    await assert.rejects(runReport('some-experiment', { trackingUri: 'http://127.0.0.1:9', out: tmp('report-down'), png: false }, () => undefined), /cannot reach http:\/\/127\.0\.0\.1:9/);
  });

  test('sync reads a record as untrusted: files outside its folder and symbolic links are not shipped', async () => {
    const { readFileSync, symlinkSync } = await import('node:fs');
    const outside = path.join(tmp('secret'), 'secret.txt');
    writeFileSync(outside, 'not for the server');
    const dir = tmp('untrusted');
    const run = await localTracking().startRun({ name: 'untrusted', experiment: 'it-untrusted', params: {}, tags: {}, runDir: dir });
    const ok = path.join(dir, 'ok.txt');
    writeFileSync(ok, 'fine');
    run.logArtifact(ok);
    await run.end('FINISHED');
    // Hand-edited afterwards: an event naming a file outside the record, and a link inside it.
    const artifacts = path.join(dir, 'tracking', 'artifacts');
    symlinkSync(outside, path.join(artifacts, 'link.txt'));
    const record = path.join(dir, 'tracking', 'record.jsonl');
    const lines = readFileSync(record, 'utf8').trim().split('\n');
    const end = lines.pop()!;
    writeFileSync(record, `${[...lines, JSON.stringify({ t: 'artifact', file: path.relative(artifacts, outside) }), JSON.stringify({ t: 'artifact', file: 'link.txt' }), end].join('\n')}\n`);
    const warnings: string[] = [];
    const res = await syncRuns(dir, toMlflow(server!.uri, { ...quiet(), warn: (w) => void warnings.push(w) }), { warn: () => undefined });
    assert.equal(res[0]!.outcome, 'synced');
    const files = (await client.listArtifactsRecursive(readShipState(dir, server!.uri)!.runId)).map((f) => f.path);
    assert.deepEqual(files, ['ok.txt']);
    assert.ok(warnings.some((w) => w.includes('secret.txt') && w.includes('outside')), warnings.join('\n'));
    assert.ok(warnings.some((w) => w.includes('link.txt') && w.includes('outside')), warnings.join('\n'));
  });

  test("sync takes the artifact destination from the server, never from a run folder's state file", async () => {
    const { existsSync, readdirSync, readFileSync } = await import('node:fs');
    const dir = tmp('state-file');
    const run = await localTracking().startRun({ name: 'state-file', experiment: 'it-state-file', params: {}, tags: {}, runDir: dir });
    const ok = path.join(dir, 'ok.txt');
    writeFileSync(ok, 'fine');
    run.logArtifact(ok);
    await run.end('FINISHED');
    // Shipped once; then the state file is edited to point uploads at a local folder and to
    // ship the whole record again.
    assert.equal((await syncRuns(dir, toMlflow(server!.uri, quiet()), { warn: () => undefined }))[0]!.outcome, 'synced');
    const stateFile = path.join(dir, 'tracking', readdirSync(path.join(dir, 'tracking')).find((f) => f.startsWith('shipped-'))!);
    const evil = tmp('evil-destination');
    const state = JSON.parse(readFileSync(stateFile, 'utf8'));
    writeFileSync(stateFile, JSON.stringify({ ...state, artifactUri: `file://${evil}`, offset: 0, done: false }));
    assert.equal((await syncRuns(dir, toMlflow(server!.uri, quiet()), { warn: () => undefined }))[0]!.outcome, 'synced');
    assert.deepEqual(readdirSync(evil), [], 'nothing was written where the state file pointed');
    assert.ok(!existsSync(path.join(evil, 'ok.txt')));
    const files = (await client.listArtifactsRecursive(state.runId)).map((f) => f.path);
    assert.deepEqual(files, ['ok.txt']);
  });

  test('sync: a damaged shipped-*.json is a clean error naming the file and what to do; the other runs still ship', async () => {
    const root = tmp('bad-state');
    const local = localTracking();
    for (const name of ['a', 'b', 'c']) {
      const r = await local.startRun({ name, experiment: 'it-bad-state', params: { name }, tags: {}, runDir: path.join(root, name) });
      r.logMetrics(0, { 'train/loss': 1 });
      await r.end('FINISHED');
    }
    assert.deepEqual((await syncRuns(root, toMlflow(server!.uri))).map((r) => r.outcome), ['synced', 'synced', 'synced']);
    const { readdirSync, readFileSync } = await import('node:fs');
    const stateOf = (run: string) => path.join(root, run, 'tracking', readdirSync(path.join(root, run, 'tracking')).find((f) => f.startsWith('shipped-'))!);
    // Cut off mid-write (a full disk), and well-formed JSON of the wrong shape.
    writeFileSync(stateOf('a'), readFileSync(stateOf('a'), 'utf8').slice(0, 20));
    writeFileSync(stateOf('b'), JSON.stringify({ trackingUri: server!.uri, offset: 'far' }));
    const warnings: string[] = [];
    const results = await syncRuns(root, toMlflow(server!.uri), { warn: (w) => void warnings.push(w) });
    assert.deepEqual(results.map((r) => [r.name, r.outcome]), [['a', 'failed'], ['b', 'failed'], ['c', 'up-to-date']]);
    assert.equal(warnings.length, 2, warnings.join('\n'));
    for (const [w, run] of [[warnings[0]!, 'a'], [warnings[1]!, 'b']] as const) {
      assert.ok(w.includes(stateOf(run)), `names the file: ${w}`);
      assert.match(w, /damaged sync state: .*delete the file and sync again/);
      assert.doesNotMatch(w, /SyntaxError|\n\s+at /);
    }
    assert.match(warnings[0]!, /not valid JSON/);
    assert.match(warnings[1]!, /'experimentId' is not a string/);
  });

  test('searching experiments follows page tokens', async () => {
    const all = await client.searchExperiments();
    assert.ok(all.length > 3, `the tests made several experiments (${all.length})`);
    const paged = await client.searchExperiments({ pageSize: 2 });
    assert.deepEqual(paged.map((e) => e.experiment_id).sort(), all.map((e) => e.experiment_id).sort());
  });

  test('get-or-create experiment is safe when callers race', async () => {
    const ids = await Promise.all(Array.from({ length: 6 }, () => new MlflowClient(server!.uri).getOrCreateExperiment('it-race')));
    assert.equal(new Set(ids).size, 1);
  });

  test('errors: a missing run is a clear, non-retried MLflow error', async () => {
    const t0 = Date.now();
    await assert.rejects(client.getRun('0123456789abcdef0123456789abcdef'), (e: Error & { errorCode?: string }) => {
      assert.equal(e.errorCode, 'RESOURCE_DOES_NOT_EXIST');
      return true;
    });
    assert.ok(Date.now() - t0 < 3000, 'a 404 is not retried');
  });
});
