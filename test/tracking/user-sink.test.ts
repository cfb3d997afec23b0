/**
 * A tracker of the user's own, listed under `plugins:` and `trackers:`, gets every event of a run
 * from the record; `ablate sync --to <its type> --plugin <module>` replays a folder into it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExperiment } from '../../src/config/load.js';
import { runExperiment } from '../../src/engine/run.js';
import { readRecord } from '../../src/tracking/record.js';
import { runSync } from '../../src/cli/commands/sync.js';
import { quietLog } from '../support/log.js';
import { tinyPluginsFile } from '../support/paths.js';
import { writeTinyExperiment } from '../support/tiny-experiment-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const lines = (file: string) => readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);

test("a user's sink gets the run's events in order, as recorded; sync --to replays into it", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-user-sink-'));
  const sinkFile = path.join(dir, 'sink.jsonl');
  const exp = writeTinyExperiment(dir, {
    name: 'user-sink',
    plugins: [tinyPluginsFile, path.join(here, 'fixtures/collect-sink.ts')],
    trackers: [{ type: 'local' }, { type: 'test-collect', file: sinkFile }],
  });
  const run = await runExperiment(await loadExperiment(exp), { log: quietLog, runName: 'mine' });
  assert.equal(run.status, 'FINISHED');
  const got = lines(sinkFile);
  assert.deepEqual(got[0], { opened: 'mine', id: run.runId });
  assert.deepEqual(got.at(-1), { ended: 'mine' });
  const events = got.slice(1, -1);
  const recorded = readFileSync(path.join(run.runDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(events, recorded, 'the sink saw exactly the record, event by event');

  const plugin = [path.join(here, 'fixtures/collect-sink.ts')];
  // Its `file` option is required: a standalone tracker is validated like any component.
  await assert.rejects(runSync(path.join(dir, 'runs'), { to: 'test-collect', plugin }, () => undefined), /options of the 'test-collect' tracker are not valid: .*file/);
  const synced = path.join(dir, 'synced.jsonl');
  const results = await runSync(path.join(dir, 'runs'), { to: 'test-collect', plugin, option: [`file=${synced}`] }, () => undefined);
  assert.deepEqual(results.map((r) => [r.name, r.outcome, r.detail]), [['mine', 'synced', synced]]);
  assert.deepEqual(lines(synced), [{ synced: 'mine', id: run.runId, metrics: Object.keys(readRecord(run.runDir).metrics).length }]);
});
