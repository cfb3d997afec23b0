/**
 * Folder walks over run folders (report, sync) treat the folder as untrusted (issue 17): a link
 * back to the folder itself or its parent does not multiply runs, a link out of it is not
 * followed, and `ablate validate` on a folder with a loop lists each file once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trackingWith } from '../../src/tracking/open.js';
import { runsFromFolder } from '../../src/report/index.js';
import { findRunDirs } from '../../src/tracking/sync.js';
import { yamlFiles } from '../../src/cli/commands/validate.js';
import { quietLog } from '../support/log.js';

test('a runs folder with `l1 -> .`, `l2 -> ..` and links between runs reports each run once', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-walk-'));
  const runs = path.join(dir, 'runs');
  const tracker = trackingWith([], quietLog);
  for (const [name, seed] of [['a', '1'], ['b', '2']] as const) {
    const run = await tracker.startRun({ name, experiment: 'e', params: { seed }, tags: {}, runDir: path.join(runs, name) });
    run.logMetrics(1, { miou: 0.5 });
    await run.end('FINISHED');
  }
  // Before, 3 such links made 9,841 runs of 2 and 4 ran out of memory.
  symlinkSync('.', path.join(runs, 'l1'));
  symlinkSync('..', path.join(runs, 'l2'));
  symlinkSync('../a', path.join(runs, 'b', 'l3'));
  symlinkSync(runs, path.join(runs, 'a', 'l4'));
  assert.deepEqual(findRunDirs(runs).map((d) => path.relative(runs, d)).sort(), ['a', 'b']);
  assert.deepEqual(runsFromFolder(runs, 'last').map((r) => r.name).sort(), ['a', 'b']);
});

test('validate lists each experiment file of a folder once, links to folders not followed', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-walk-yaml-'));
  mkdirSync(path.join(dir, 'sub'));
  writeFileSync(path.join(dir, 'x.yaml'), 'name: x\n');
  writeFileSync(path.join(dir, 'sub', 'y.yaml'), 'name: y\n');
  symlinkSync('.', path.join(dir, 'l1'));
  symlinkSync('..', path.join(dir, 'sub', 'up'));
  assert.deepEqual(yamlFiles(dir).map((f) => path.relative(dir, f)), ['sub/y.yaml', 'x.yaml']);
});

test('a walk cut by the depth bound says so once, naming the first folder it did not search', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-walk-deep-'));
  const tracker = trackingWith([], quietLog);
  const deep = path.join(dir, ...'abcdefghij'.split(''));
  for (const runDir of [path.join(dir, 'x', 'shallow'), path.join(deep, 'deep'), path.join(dir, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'other', 'run')]) {
    const run = await tracker.startRun({ name: path.basename(runDir), experiment: 'e', params: {}, tags: {}, runDir });
    await run.end('FINISHED');
  }
  const warnings: string[] = [];
  assert.deepEqual(findRunDirs(dir, (w) => void warnings.push(w)).map((d) => path.relative(dir, d)), ['x/shallow']);
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /run folders are looked for at most 8 levels below .*: .*a\/b\/c\/d\/e\/f\/g\/h\/(i|other) and 1 other folder\(s\) that deep not searched/);
  // Shallow trees: no word.
  const quiet: string[] = [];
  findRunDirs(path.join(dir, 'x'), (w) => void quiet.push(w));
  assert.deepEqual(quiet, []);
});
