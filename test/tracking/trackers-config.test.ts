/**
 * `trackers:` is a list slot; the former `tracker:` spelling is read as a one-element list, and
 * when both are present the later layer wins, as with any other override.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadExperiment } from '../../src/config/load.js';
import { ExperimentContainer } from '../../src/plugin/container.js';
import { openTracking, trackerSlots } from '../../src/tracking/open.js';
import { tinyExperimentLines } from '../support/tiny-experiment-file.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function files(entries: Record<string, string[]>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-trackers-'));
  for (const [name, lines] of Object.entries(entries)) writeFileSync(path.join(dir, name), `${lines.join('\n')}\n`);
  return dir;
}

const base = tinyExperimentLines({ name: 'trackers-test', metrics: undefined, trainer: { type: 'test-supervised', iterations: 2 } });

test('a trackers list is kept in order; without one the default is the record alone (local)', async () => {
  const dir = files({ 'two.yaml': [...base, 'trackers: [{type: console, every: 5}, {type: local}]'], 'none.yaml': base });
  const two = await loadExperiment(path.join(dir, 'two.yaml'));
  assert.deepEqual(two.config.trackers, [{ type: 'console', every: 5 }, { type: 'local' }]);
  assert.equal(two.config.tracker, undefined);
  const none = await loadExperiment(path.join(dir, 'none.yaml'));
  assert.deepEqual(none.config.trackers, [{ type: 'local' }]);
  const log = { info() {}, warn() {}, debug() {} };
  const container = new ExperimentContainer({ registry: two.registry, config: two.config, baseDir: dir, log });
  assert.deepEqual(trackerSlots(container.slotNames()), ['trackers.0', 'trackers.1']);
});

test('the former `tracker:` spelling is a one-element list, with its options and location', async () => {
  const dir = files({
    'old.yaml': [...base, 'tracker: {type: console, every: 3}'],
    'typo.yaml': [...base, 'tracker:', '  type: console', '  evry: 3'],
  });
  const old = await loadExperiment(path.join(dir, 'old.yaml'));
  assert.deepEqual(old.config.trackers, [{ type: 'console', every: 3 }]);
  assert.equal(old.config.tracker, undefined);
  assert.equal(old.provenance['trackers.0.every']?.origin.line, base.length + 1);
  // A mistake under the old spelling is still reported where it was written.
  await assert.rejects(loadExperiment(path.join(dir, 'typo.yaml')), (e: Error & { errors?: { where?: { line?: number; key?: string } }[] }) => {
    const err = e.errors?.[0] ?? (e as { where?: { line?: number; key?: string } });
    assert.match(e.message, /unknown key 'evry'/);
    assert.equal(err.where?.line, base.length + 3);
    assert.equal(err.where?.key, 'trackers.0.evry');
    return true;
  });
});

test('both spellings: the later layer wins (experiment over its base, --set over files)', async () => {
  const dir = files({
    'new-base.yaml': ['trackers: [{type: console}]'],
    'old-over-new.yaml': ['extends: new-base.yaml', ...base, 'tracker: {type: local}'],
    'old-base.yaml': ['tracker: {type: console}'],
    'new-over-old.yaml': ['extends: old-base.yaml', ...base, 'trackers: [{type: local}, {type: console}]'],
  });
  const a = await loadExperiment(path.join(dir, 'old-over-new.yaml'));
  assert.deepEqual(a.config.trackers, [{ type: 'local' }]);
  const b = await loadExperiment(path.join(dir, 'new-over-old.yaml'));
  assert.deepEqual(b.config.trackers, [{ type: 'local' }, { type: 'console', every: 1 }]);
  const c = await loadExperiment(path.join(dir, 'new-over-old.yaml'), { set: ['tracker.type=local'] });
  assert.deepEqual(c.config.trackers, [{ type: 'local' }]);
  assert.equal(c.config.tracker, undefined);
});

test('both spellings in one file are a located error, not a silent choice', async () => {
  const dir = files({ 'both.yaml': [...base, 'tracker: {type: local}', 'trackers: [{type: console}]'] });
  await assert.rejects(loadExperiment(path.join(dir, 'both.yaml')), (e: Error & { code?: string; where?: { line?: number } }) => {
    assert.equal(e.code, 'config.both-spellings');
    assert.match(e.message, /'tracker:' and 'trackers:' are both set/);
    assert.equal(e.where?.line, base.length + 1);
    return true;
  });
});

test('a tracker that cannot be built is an error at its place in the list', async () => {
  const dir = files({ 'no-uri.yaml': [...base, 'trackers: [{type: console}, {type: mlflow}]'] });
  const exp = await loadExperiment(path.join(dir, 'no-uri.yaml'));
  const saved = process.env.MLFLOW_TRACKING_URI;
  delete process.env.MLFLOW_TRACKING_URI;
  try {
    const log = { info() {}, warn() {}, debug() {} };
    const container = new ExperimentContainer({ registry: exp.registry, config: exp.config, baseDir: dir, log });
    await assert.rejects(openTracking(container, log), (e: Error & { code?: string; where?: { key?: string } }) => {
      assert.equal(e.code, 'tracking.no-uri');
      assert.equal(e.where?.key, 'trackers.1.tracking_uri');
      return true;
    });
  } finally {
    if (saved !== undefined) process.env.MLFLOW_TRACKING_URI = saved;
  }
});
