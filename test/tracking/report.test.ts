/** `ablate report` from local records: the table's numbers, its Markdown, and the SVG/PNG plot. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createLocalTracker, buildTable, meanStd, fractionLabel, runsFromFolder } from '../../src/tracking/index.js';
import { runReport } from '../../src/cli/commands/report.js';

const log = { info: () => undefined, warn: () => undefined };

/** A miniature paper table: 3 methods × 3 fractions × 2 seeds, minus (full, adv-semi). */
async function makeSweep(): Promise<{ dir: string; expected: Map<string, number[]> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-report-'));
  const tracker = createLocalTracker({ log, systemTags: false });
  const parent = await tracker.startRun({ name: 'paper', experiment: 'e', params: {}, tags: {}, runDir: dir });
  const expected = new Map<string, number[]>();
  const methods = ['supervised', 'adversarial', 'adversarial-semi'];
  for (const [mi, method] of methods.entries()) {
    for (const frac of ['0.125', '0.5', '1']) {
      if (method === 'adversarial-semi' && frac === '1') continue;
      for (const seed of ['1', '2']) {
        const name = `${method}-${frac}-${seed}`;
        const run = await tracker.startRun({ name, experiment: 'e', params: { 'trainer.type': method, 'dataset.labeled_fraction': frac, seed }, tags: {}, runDir: path.join(dir, name), parentRunId: parent.id });
        const miou = 0.5 + 0.05 * mi + 0.1 * Number(frac) + 0.01 * Number(seed);
        run.logMetrics(0, { 'val/miou': 0.1 });
        run.logMetrics(100, { 'val/miou': miou });
        await run.end('FINISHED');
        const key = `${method}|${frac}`;
        expected.set(key, [...(expected.get(key) ?? []), miou * 100]);
      }
    }
  }
  // A failed run is left out, not averaged in.
  const bad = await tracker.startRun({ name: 'crashed', experiment: 'e', params: { 'trainer.type': 'supervised', 'dataset.labeled_fraction': '0.5', seed: '3' }, tags: {}, runDir: path.join(dir, 'crashed'), parentRunId: parent.id });
  bad.logMetrics(5, { 'val/miou': 0.99 });
  await bad.end('FAILED');
  await parent.end('FINISHED');
  return { dir, expected };
}

test('meanStd and fraction labels', () => {
  assert.deepEqual(meanStd([1, 3]), { mean: 2, std: Math.SQRT2 });
  assert.deepEqual(meanStd([4]), { mean: 4, std: 0 });
  assert.equal(fractionLabel('0.125'), '1/8');
  assert.equal(fractionLabel('1'), 'Full');
  assert.equal(fractionLabel('0.3'), '0.3');
});

test('report from a local sweep: methods × fractions, mean ± std over seeds, files written', async () => {
  const { dir, expected } = await makeSweep();
  const table = buildTable(runsFromFolder(dir, 'last'));
  assert.equal(table.metric, 'val/miou');
  assert.equal(table.percent, true);
  assert.deepEqual(table.methods, ['supervised', 'adversarial', 'adversarial-semi']);
  assert.deepEqual(table.fractions, ['0.125', '0.5', '1']);
  for (const [key, values] of expected) {
    const [method, frac] = key.split('|') as [string, string];
    const cell = table.cells[method]![frac]!;
    const want = meanStd(values);
    assert.ok(Math.abs(cell.mean - want.mean) < 1e-9, `${key} mean`);
    assert.ok(Math.abs(cell.std - want.std) < 1e-9, `${key} std`);
    assert.equal(cell.values.length, 2);
  }
  assert.equal(table.cells['adversarial-semi']!['1'], undefined);
  assert.deepEqual(table.skipped, [{ name: 'crashed', reason: 'status FAILED' }]);

  let printed = '';
  const { markdown, files } = await runReport(dir, { out: path.join(dir, 'out') }, (t) => void (printed += t));
  assert.match(markdown, /\| Method \| 1\/8 \| 1\/2 \| Full \|/);
  // supervised @ 1/8: seeds give 52.25 and 53.25 → 52.8 ± 0.7
  assert.match(markdown, /\| supervised \| 52\.8 ± 0\.7 \|/);
  assert.match(markdown, /\| adversarial-semi \| .* \| – \|/);
  assert.ok(printed.includes(markdown));
  const svg = readFileSync(files[1]!, 'utf8');
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<path /g) ?? []).length, 3, 'one line per method');
  const png = readFileSync(files[2]!);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 5000);
});

test('report options: another metric aggregate, and a clear error for an unknown metric', async () => {
  const { dir } = await makeSweep();
  const max = buildTable(runsFromFolder(dir, 'max'), { ...(await import('../../src/tracking/report.js')).DEFAULT_SPEC, percent: false });
  assert.equal(max.percent, false);
  assert.ok(max.cells.supervised!['0.125']!.mean < 1);
  await assert.rejects(runReport(dir, { metric: 'val/nope', png: false }, () => undefined), /none of the runs has the metric val\/nope/);
});

test('a resumed run (its resume-NNNNNNN/ record) counts once, with the resumed metrics and status', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-report-resume-'));
  const tracker = createLocalTracker({ log, systemTags: false });
  const params = { 'trainer.type': 'supervised', 'dataset.labeled_fraction': '0.125', seed: '0' };
  const first = await tracker.startRun({ name: 'r', experiment: 'e', params, tags: {}, runDir: path.join(dir, 'r') });
  first.logMetrics(100, { 'train/loss': 2, 'val/miou': 0.2 });
  first.logMetrics(200, { 'train/loss': 9 }); // after the last checkpoint (150): recomputed by the resume
  await first.end('KILLED');
  const resumed = await tracker.startRun({ name: 'r (resumed @150)', experiment: 'e', params, tags: {}, runDir: path.join(dir, 'r', 'resume-0000150') });
  resumed.logMetrics(200, { 'train/loss': 1 });
  resumed.logMetrics(300, { 'val/miou': 0.4 });
  await resumed.end('FINISHED');

  const runs = runsFromFolder(dir, 'last');
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.status, 'FINISHED');
  assert.equal(runs[0]!.metrics['val/miou'], 0.4);
  assert.equal(runsFromFolder(dir, 'max')[0]!.metrics['train/loss'], 2, 'the pre-resume point at step 200 was replaced');
  const table = buildTable(runs);
  assert.deepEqual(table.skipped, []);
  assert.equal(table.cells.supervised!['0.125']!.values.length, 1);
  assert.ok(Math.abs(table.cells.supervised!['0.125']!.mean - 40) < 1e-9);
});
