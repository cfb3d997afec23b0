// `ablate runs`: real runs in a folder, listed newest first with status, headline and folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/engine/run.js';
import { listRuns, age } from '../../src/cli/commands/runs.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';
import { quietLog } from '../support/log.js';

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
