/**
 * Tracking throughput against a real MLflow server (scripts/mlflow-server.mjs):
 *   1. logMetrics cost on the training thread (local record append), per call;
 *   2. raw log-batch throughput of the client (chunked at 1000 metrics per request);
 *   3. live shipping: how long end() waits for a run of many points to reach the server;
 *   4. `sync` of a folder of finished local runs, then the idempotent re-sync.
 * Run: node --import tsx bench/tracking.ts   (needs .venv-mlflow: bash scripts/mlflow-venv.sh)
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
// @ts-expect-error -- plain .mjs helper shared with the command line
import { startMlflowServer } from '../scripts/mlflow-server.mjs';
import { trackingWith } from '../src/tracking/open.js';
import { syncRuns } from '../src/tracking/sync.js';
import { MlflowClient } from '../plugins/trackers/mlflow/client.js';
import { MlflowSink } from '../plugins/trackers/mlflow/sink.js';

const quiet = { info: () => undefined, warn: () => undefined, debug: () => undefined };
/** The local record alone (`trackers: []`). */
const createLocalTracker = (opts: { log: typeof quiet }) => trackingWith([], opts.log);
const toMlflow = (uri: string) => ({ name: 'mlflow', sink: new MlflowSink({ trackingUri: uri, log: quiet }) });
const tmp = (p: string) => mkdtempSync(path.join(os.tmpdir(), `ablate-bench-${p}-`));
const server = (await startMlflowServer()) as { uri: string; startupMs: number; stop(): Promise<void> };
const results: Record<string, string> = { 'server startup': `${server.startupMs} ms` };
try {
  // 1. logMetrics on the training thread
  {
    const local = createLocalTracker({ log: quiet });
    const run = await local.startRun({ name: 'b', experiment: 'bench', params: {}, tags: {}, runDir: tmp('local') });
    const n = 20_000;
    const t0 = performance.now();
    for (let i = 0; i < n; i++) run.logMetrics(i, { 'train/loss': Math.random(), 'train/lr': 1e-3, it_per_sec: 5 });
    const ms = performance.now() - t0;
    await run.end('FINISHED');
    results['logMetrics (3 keys) per call, local record'] = `${((ms * 1000) / n).toFixed(1)} µs`;
  }
  // 2. raw log-batch throughput
  {
    const c = new MlflowClient(server.uri);
    const exp = await c.getOrCreateExperiment('bench');
    const run = await c.createRun({ experimentId: exp, runName: 'batch' });
    const n = 20_000;
    const now = Date.now();
    const metrics = Array.from({ length: n }, (_, i) => ({ key: `m${i % 4}`, value: Math.random(), timestamp: now, step: Math.floor(i / 4) }));
    const t0 = performance.now();
    const requests = await c.logBatchChunked(run.info.run_id, { metrics });
    const s = (performance.now() - t0) / 1000;
    results['log-batch throughput'] = `${(n / s).toFixed(0)} metrics/s (${n} metrics, ${requests} requests, ${(s * 1000 / requests).toFixed(0)} ms/request)`;
  }
  // 3. live shipping of a run
  {
    const tracker = trackingWith([{ name: 'mlflow', sink: new MlflowSink({ trackingUri: server.uri, log: quiet, intervalMs: 1000 }) }], quiet);
    const run = await tracker.startRun({ name: 'live', experiment: 'bench', params: { a: '1' }, tags: {}, runDir: tmp('live') });
    const steps = 5000;
    const t0 = performance.now();
    for (let i = 0; i < steps; i++) run.logMetrics(i, { 'train/loss': Math.random(), 'train/lr': 1e-3 });
    const logMs = performance.now() - t0;
    const t1 = performance.now();
    await run.end('FINISHED');
    await tracker.close();
    results['live run, 10000 points'] = `logging ${logMs.toFixed(0)} ms on the training thread; end() waited ${(performance.now() - t1).toFixed(0)} ms for the server`;
  }
  // 4. sync of finished local runs
  {
    const root = tmp('sync');
    const local = createLocalTracker({ log: quiet });
    const parent = await local.startRun({ name: 'sweep', experiment: 'bench-sync', params: {}, tags: {}, runDir: root });
    for (let r = 0; r < 10; r++) {
      const run = await local.startRun({ name: `cell-${r}`, experiment: 'bench-sync', params: { seed: String(r) }, tags: {}, runDir: path.join(root, `cell-${r}`), parentRunId: parent.id });
      for (let i = 0; i < 1000; i++) run.logMetrics(i, { 'train/loss': Math.random(), 'train/lr': 1e-3, 'train/acc': Math.random() });
      await run.end('FINISHED');
    }
    await parent.end('FINISHED');
    let t0 = performance.now();
    await syncRuns(root, toMlflow(server.uri));
    results['sync, 11 runs / 30000 points'] = `${(performance.now() - t0).toFixed(0)} ms`;
    t0 = performance.now();
    await syncRuns(root, toMlflow(server.uri));
    results['re-sync (nothing new)'] = `${(performance.now() - t0).toFixed(0)} ms`;
  }
} finally {
  await server.stop();
}
console.log(`tracking bench, ${new Date().toISOString()}, ${os.cpus().length} cores, load ${os.loadavg().map((l) => l.toFixed(1)).join('/')}`);
for (const [k, v] of Object.entries(results)) console.log(`- ${k}: ${v}`);
