/**
 * End to end: the engine trains a tiny 2-cell sweep with `tracker: mlflow` against the real
 * server; the parent/child nesting, flattened params, step metrics, artifacts and the report are
 * read back from MLflow. Then `report` on the local sweep folder gives the same table.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSweep, type SweepCellInput } from '../../src/engine/sweep.js';
import { MlflowClient, fromKv, RUN_ID_TAG, readShipState } from '../../src/tracking/index.js';
import { runReport } from '../../src/cli/commands/report.js';
import { testRegistry, tinyExperiment } from '../engine/tiny-plugins.js';
import { serverForTests } from './mlflow-server.js';

const { server, skip } = await serverForTests();
after(async () => {
  await server?.stop();
});

const quiet = { info() {}, warn() {}, debug() {} };

function cells(out: string, uri: string): SweepCellInput[] {
  return [0.5, 0.05].map((lr) => {
    const e = tinyExperiment(out, { trainer: { iterations: 6 } });
    (e.config.optimizer as Record<string, unknown>).lr = lr;
    (e.config.scheduler as Record<string, unknown>).lr = lr;
    e.config.tracker = { type: 'mlflow', tracking_uri: uri, flush_interval_ms: 200 };
    const canonicalYaml = `${JSON.stringify(e.config, null, 2)}\n`;
    return { name: `lr=${lr}`, labels: { lr }, diff: { 'optimizer.lr': lr }, experiment: { ...e, canonicalYaml, hash: `${lr === 0.5 ? 'a' : 'b'}${e.hash.slice(1)}` } };
  });
}

test('engine sweep logged to a real MLflow server: nesting, params, metrics, artifacts, report', { skip, timeout: 300_000 }, async () => {
  const uri = server!.uri;
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-e2e-'));
  const r = await runSweep(cells(out, uri), { registry: testRegistry(), file: 'lr-sweep.yaml', log: quiet, out: () => {} });
  assert.equal(r.status, 'FINISHED', JSON.stringify(r.cells));

  const client = new MlflowClient(uri);
  const parentState = readShipState(r.sweepDir, uri)!;
  assert.ok(parentState?.done, 'the sweep parent run was shipped completely');
  const parent = await client.getRun(parentState.runId);
  assert.equal(parent.info.status, 'FINISHED');
  assert.equal(fromKv(parent.data.params)['sweep.axis.lr'], '0.5, 0.05');
  const kids = await client.searchRuns([parentState.experimentId], `tags.\`mlflow.parentRunId\` = '${parentState.runId}'`);
  assert.equal(kids.length, 2);
  for (const c of r.cells) {
    const kid = kids.find((k) => k.info.run_id === readShipState(c.runDir!, uri)?.runId)!;
    assert.ok(kid, `${c.name} is on the server`);
    assert.equal(kid.info.status, 'FINISHED');
    const params = fromKv(kid.data.params);
    assert.equal(params['optimizer.lr'], c.name === 'lr=0.5' ? '0.5' : '0.05', 'flattened config as params');
    assert.equal(params['trainer.type'], 'test-supervised');
    const tags = fromKv(kid.data.tags);
    assert.ok(tags[RUN_ID_TAG], 'client run id tag');
    assert.ok(tags['ablate.config_hash'], 'config hash tag');
    assert.ok(tags['mlflow.source.git.commit'] ?? tags['ablate.node_version'], 'provenance tags');
    const metricKeys = (kid.data.metrics ?? []).map((m) => m.key);
    const lossKey = metricKeys.find((k) => /loss/.test(k));
    assert.ok(lossKey, `a loss metric among ${metricKeys.join(', ')}`);
    const hist = await client.getMetricHistory(kid.info.run_id, lossKey!);
    assert.ok(hist.length >= 2 && new Set(hist.map((h) => h.step)).size === hist.length, 'step-wise loss history');
    const files = (await client.listArtifactsRecursive(kid.info.run_id)).map((f) => f.path);
    assert.ok(files.some((f) => f.endsWith('config.yaml')), `resolved config artifact among ${files.join(', ')}`);
  }

  // The same table from the server (by the parent's MLflow id) and from the local folders.
  const spec = { fraction: 'params.optimizer.lr', metric: 'pixel_acc,acc', png: false } as const;
  const fromServer = await runReport(parentState.runId, { ...spec, trackingUri: uri, out: path.join(out, 'rep1') }, () => undefined);
  const fromLocal = await runReport(r.sweepDir, { ...spec, out: path.join(out, 'rep2') }, () => undefined);
  assert.deepEqual(fromServer.table.fractions, ['0.05', '0.5']);
  assert.deepEqual(fromLocal.table.cells, fromServer.table.cells);
});
