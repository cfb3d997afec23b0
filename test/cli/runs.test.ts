// `ablate runs`: real runs in a folder, listed newest first with status, headline and folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/engine/run.js';
import { listRuns, age } from '../../src/cli/commands/runs.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';
import { quietLog } from '../support/log.js';
import { tinyPluginsFile } from '../support/paths.js';

test('ablate runs lists the runs newest first with status, headline metric and folder', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-runs-'));
  const first = await runExperiment(tinyExperiment(out, { trainer: { iterations: 3 }, checkpoint: { every: 0 } }), { registry: tinyRegistry(), log: quietLog, runName: 'first' });
  const e2 = tinyExperiment(out, { trainer: { iterations: 4 }, checkpoint: { every: 0 } });
  const second = await runExperiment({ ...e2, hash: `f${e2.hash.slice(1)}` }, { registry: tinyRegistry(), log: quietLog, runName: 'second' });
  const lines: string[] = [];
  const rows = await listRuns(undefined, { dir: out }, (l) => void lines.push(l));
  assert.deepEqual(rows.map((r) => [r.name, r.status, r.runDir]), [['second', 'FINISHED', second.runDir], ['first', 'FINISHED', first.runDir]]);
  assert.equal(rows[0]!.headline?.key, 'pixel_acc', 'the first plain scalar when evaluation.headline is empty');
  assert.equal(rows[0]!.headline?.value, second.metrics.pixel_acc);
  assert.match(lines[0]!, /^started +status +name +headline +folder$/);
  assert.match(lines[1]!, /^\d+ s ago +FINISHED +second +pixel_acc \d\.\d{4} +\S+second-/);
  // Filtered by experiment name: these runs are engine-test's.
  assert.equal((await listRuns('engine-test', { dir: out }, () => undefined)).length, 2);
  assert.equal((await listRuns('other', { dir: out }, () => undefined)).length, 0);
  assert.equal(age(3 * 3600 * 1000), '3 h ago');
});

test('`latest` names the newest run folder (under runs/ or under the folder given before it)', async () => {
  const { resolveRunFolder } = await import('../../src/cli/latest.js');
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-latest-'));
  const older = await runExperiment(tinyExperiment(out, { trainer: { iterations: 2 }, checkpoint: { every: 0 } }), { registry: tinyRegistry(), log: quietLog, runName: 'older' });
  const e2 = tinyExperiment(out, { trainer: { iterations: 2 }, checkpoint: { every: 0 } });
  // Its config.yaml names the tiny plugins' module, so `ablate eval` can rebuild it.
  e2.config.plugins = [tinyPluginsFile];
  e2.canonicalYaml = `${JSON.stringify(e2.config, null, 2)}\n`;
  const newer = await runExperiment({ ...e2, hash: `e${e2.hash.slice(1)}` }, { registry: tinyRegistry(), log: quietLog, runName: 'newer' });
  assert.notEqual(older.runDir, newer.runDir);
  assert.equal(resolveRunFolder(path.join(out, 'latest')), newer.runDir);
  assert.equal(resolveRunFolder(path.join(out, 'engine-test', 'latest'), 'run'), newer.runDir);
  assert.equal(resolveRunFolder(older.runDir), older.runDir, 'a path that exists is itself');
  assert.throws(() => resolveRunFolder(path.join(out, 'latest'), 'sweep'), /no sweep under/);
  // Through a command: eval of `<folder>/latest` scores the newest run's final checkpoint.
  const { evalCommand } = await import('../../src/cli/commands/eval.js');
  const r = await evalCommand(path.join(out, 'latest'), { json: true }, () => undefined);
  assert.equal(path.dirname(path.dirname(r.checkpoint)), newer.runDir);
});

test('a run id names its run folder: ablate\'s own, or a tracker\'s kept beside the record', async () => {
  const { resolveRunFolder } = await import('../../src/cli/latest.js');
  const { readRecord, recordPaths } = await import('../../src/tracking/record.js');
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-run-id-'));
  const e = tinyExperiment(out, { trainer: { iterations: 3 }, checkpoint: { every: 0 } });
  e.config.plugins = [tinyPluginsFile]; // so `ablate eval` can rebuild it from config.yaml
  e.canonicalYaml = `${JSON.stringify(e.config, null, 2)}\n`;
  const run = await runExperiment(e, { registry: tinyRegistry(), log: quietLog });
  const id = readRecord(run.runDir).id;
  assert.match(id, /^[0-9a-f]{32}$/);
  assert.equal(resolveRunFolder(path.join(out, id), 'run'), run.runDir);
  assert.equal(resolveRunFolder(path.join(out, id.toUpperCase())), run.runDir, 'hex case does not matter');
  // A sink's per-run state (the MLflow sink writes shipped-<server>.json with the server's run id).
  const serverId = 'ab'.repeat(16);
  writeFileSync(path.join(recordPaths(run.runDir).dir, 'shipped-0123456789.json'), JSON.stringify({ runId: serverId, offset: 0, done: true }));
  assert.equal(resolveRunFolder(path.join(out, serverId)), run.runDir);
  const unknown = 'cd'.repeat(16);
  assert.throws(() => resolveRunFolder(path.join(out, unknown)), /no run folder under .* has the run id cdcd/);
  assert.equal(resolveRunFolder(path.join(out, unknown), 'sweep', { ifUnknownId: 'keep' }), path.join(out, unknown), 'report asks the server instead');
  // Through a command: eval by id scores that run's checkpoint.
  const { evalCommand } = await import('../../src/cli/commands/eval.js');
  const r = await evalCommand(path.join(out, serverId), { json: true }, () => undefined);
  assert.equal(path.dirname(path.dirname(r.checkpoint)), run.runDir);
});
