/**
 * `ablate report`: the table laid out by the sweep's own axes (defaults and --rows/--cols/--over),
 * from a real sweep folder written by the tiny test plugins, and from hand-made local records;
 * its numbers, Markdown and SVG/PNG plot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackingWith } from '../../src/tracking/open.js';
import { asReciprocal, buildTable, cellAt, levelLabels, meanStd, runsFromFolder, DEFAULT_SPEC } from '../../src/report/index.js';
import { runReport } from '../../src/cli/commands/report.js';
import { runSweep } from '../../src/cli/commands/sweep-run.js';
import { quietLog } from '../support/log.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const tinyPlugins = path.join(here, '..', 'engine', 'tiny-plugins.ts');

/** Params-only runs (no sweep tags): 3 methods × 3 fractions × 2 seeds, minus (full, adv-semi). */
async function makeRuns(): Promise<{ dir: string; expected: Map<string, number[]> }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-report-'));
  const tracker = trackingWith([], quietLog);
  const parent = await tracker.startRun({ name: 'paper', experiment: 'e', params: {}, tags: {}, runDir: dir });
  const expected = new Map<string, number[]>();
  const methods = ['supervised', 'adversarial', 'adversarial-semi'];
  for (const [mi, method] of methods.entries()) {
    for (const frac of ['0.125', '0.5', '1']) {
      if (method === 'adversarial-semi' && frac === '1') continue;
      for (const seed of ['1', '2']) {
        const name = `${method}-${frac}-${seed}`;
        const run = await tracker.startRun({ name, experiment: 'e', params: { 'trainer.type': method, 'dataset.labeled_fraction': frac, seed, 'evaluation.headline': '["miou"]' }, tags: {}, runDir: path.join(dir, name), parentRunId: parent.id });
        const miou = 0.5 + 0.05 * mi + 0.1 * Number(frac) + 0.01 * Number(seed);
        run.logMetrics(0, { miou: 0.1 });
        run.logMetrics(100, { miou, 'iou/x': 0.3 });
        await run.end('FINISHED');
        const key = `${method}|${frac}`;
        expected.set(key, [...(expected.get(key) ?? []), miou * 100]);
      }
    }
  }
  // A failed run is left out, not averaged in.
  const bad = await tracker.startRun({ name: 'crashed', experiment: 'e', params: { 'trainer.type': 'supervised', 'dataset.labeled_fraction': '0.5', seed: '3' }, tags: {}, runDir: path.join(dir, 'crashed'), parentRunId: parent.id });
  bad.logMetrics(5, { miou: 0.99 });
  await bad.end('FAILED');
  await parent.end('FINISHED');
  return { dir, expected };
}

const byParams = { rows: ['params.trainer.type'], cols: ['params.dataset.labeled_fraction'], over: ['params.seed'] };

test('meanStd, and axis values as fractions only where every value is a whole-number reciprocal', () => {
  assert.deepEqual(meanStd([1, 3]), { mean: 2, std: Math.SQRT2 });
  assert.deepEqual(meanStd([4]), { mean: 4, std: 0 });
  assert.equal(asReciprocal('0.125'), '1/8');
  assert.equal(asReciprocal('1'), '1');
  assert.equal(asReciprocal('0.3'), undefined);
  assert.equal(asReciprocal('adv'), undefined);
  assert.deepEqual(levelLabels(['0.125', '0.25', '1']), ['1/8', '1/4', '1']);
  assert.deepEqual(levelLabels(['0.125', '0.3']), ['0.125', '0.3'], 'one value that is no reciprocal keeps the axis as written');
  assert.deepEqual(levelLabels(['1', '2']), ['1', '2']);
  assert.deepEqual(levelLabels(['0.125', '1'], false), ['0.125', '1']);
  assert.deepEqual(levelLabels(['adv · 0.5', 'adv · 0.25']), ['adv · 1/2', 'adv · 1/4'], 'per axis of a joined level');
});

test('report from params-only runs with --rows/--cols/--over: mean ± std over seeds, files written', async () => {
  const { dir, expected } = await makeRuns();
  const table = buildTable(runsFromFolder(dir, 'last'), { ...DEFAULT_SPEC, ...byParams });
  assert.equal(table.metric, 'miou', 'the headline metric the runs name');
  assert.equal(table.percent, true);
  assert.deepEqual(table.rows, { axes: ['params.trainer.type'], levels: ['supervised', 'adversarial', 'adversarial-semi'] });
  assert.deepEqual(table.cols, { axes: ['params.dataset.labeled_fraction'], levels: ['0.125', '0.5', '1'] });
  assert.deepEqual(table.over, ['params.seed']);
  for (const [key, values] of expected) {
    const [method, frac] = key.split('|') as [string, string];
    const cell = cellAt(table, method, frac)!;
    const want = meanStd(values);
    assert.ok(Math.abs(cell.mean - want.mean) < 1e-9, `${key} mean`);
    assert.ok(Math.abs(cell.std - want.std) < 1e-9, `${key} std`);
    assert.deepEqual(cell.replicates, ['1', '2']);
  }
  assert.equal(cellAt(table, 'adversarial-semi', '1'), undefined);
  assert.deepEqual(table.skipped, [{ name: 'crashed', reason: 'status FAILED' }]);

  let printed = '';
  const { markdown, files } = await runReport(dir, { out: path.join(dir, 'out'), rows: 'params.trainer.type', cols: 'params.dataset.labeled_fraction', over: 'params.seed' }, (t) => void (printed += t));
  assert.match(markdown, /\| params\.trainer\.type \\ params\.dataset\.labeled_fraction \| 1\/8 \| 1\/2 \| 1 \|/);
  // supervised @ 1/8: seeds give 52.25 and 53.25 → 52.8 ± 0.7
  assert.match(markdown, /\| supervised \| 52\.8 ± 0\.7 \|/);
  assert.match(markdown, /\| adversarial-semi \| .* \| – \|/);
  assert.match(markdown, /miou \(%\), mean ± sample std over 2 params\.seeds per cell/);
  assert.ok(printed.includes(markdown));
  const svg = readFileSync(files[1]!, 'utf8');
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<path /g) ?? []).length, 3, 'one line per row');
  assert.match(svg, />params\.dataset\.labeled_fraction</, 'the x axis is named after the columns axis');
  const png = readFileSync(files[2]!);
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 5000);
});

test('report options: another metric and aggregate, and clear errors for an unknown metric or axis', async () => {
  const { dir } = await makeRuns();
  const max = buildTable(runsFromFolder(dir, 'max'), { ...byParams, metric: ['iou/x'], percent: false });
  assert.equal(max.metric, 'iou/x');
  assert.equal(max.percent, false);
  assert.ok(Math.abs(cellAt(max, 'supervised', '0.125')!.mean - 0.3) < 1e-12);
  await assert.rejects(runReport(dir, { ...{ rows: 'params.trainer.type' }, metric: 'val/nope', png: false }, () => undefined), /none of the runs has the metric val\/nope/);
  await assert.rejects(runReport(dir, { rows: 'params.nope', png: false }, () => undefined), /--rows names 'params\.nope', which is neither a sweep axis nor a param or tag of any run/);
});

test('a resumed run (its resume-NNNNNNN/ record) counts once, with the resumed metrics and status', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-report-resume-'));
  const tracker = trackingWith([], quietLog);
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
  const table = buildTable(runs, { ...byParams, metric: ['val/miou'], percent: 'auto' });
  assert.deepEqual(table.skipped, []);
  assert.equal(table.cells.length, 1);
  assert.ok(Math.abs(cellAt(table, 'supervised', '0.125')!.mean - 40) < 1e-9);
});

// ─── a real sweep folder (tiny plugins) ──

function sweepFile(dir: string): string {
  const file = path.join(dir, 'axes.yaml');
  writeFileSync(
    file,
    [
      'name: report-axes',
      'seed: 0',
      `plugins: [${JSON.stringify(tinyPlugins)}]`,
      'runtime: {backend: cpu}',
      'model: {type: test-tiny-model}',
      'optimizer: {type: test-sgd, lr: 0.5}',
      'scheduler: {type: constant, lr: 0.5}',
      'dataset: {type: test-tiny-data, val: 3}',
      'metrics: {acc: {type: test-pixel-acc}}',
      'trainer: {type: test-supervised, iterations: 3, batch_size: 2}',
      'evaluation: {headline: [pixel_acc]}',
      'checkpoint: {every: 0}',
      'progress: {bar: never}',
      `output: {dir: ${JSON.stringify(path.join(dir, 'runs'))}}`,
      'sweep:',
      '  variant_axis: method',
      '  variants:',
      '    slow: {optimizer.lr: 0.01, scheduler.lr: 0.01}',
      '    fast: {optimizer.lr: 0.5, scheduler.lr: 0.5}',
      '  grid:',
      '    dataset.train: [8, 4]',
      '    seed: [0, 1]',
      '',
    ].join('\n'),
  );
  return file;
}

test('report from a real sweep folder: variant axis × first grid axis over seeds by default, any layout by flag', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-report-sweep-'));
  const lines: string[] = [];
  const outcome = await runSweep(sweepFile(dir), { set: [] }, (l) => lines.push(l));
  assert.equal(outcome.status, 'FINISHED', lines.join('\n'));
  assert.equal(outcome.cells.length, 8);
  assert.match(outcome.summary, /\| cell +\| method +\| seed +\| train +\| status +\| pixel_acc +\|/, 'the summary shows the headline metric');
  const sweepJson = JSON.parse(readFileSync(path.join(outcome.sweepDir, 'sweep.json'), 'utf8')) as { axes: { label: string; variant: boolean; values: unknown[] }[] };
  assert.deepEqual(sweepJson.axes.map((a) => [a.label, a.variant, a.values]), [['method', true, ['slow', 'fast']], ['seed', false, [0, 1]], ['train', false, [8, 4]]]);

  const value = (cell: string) => outcome.cells.find((c) => c.name === cell)!.metrics.pixel_acc! * 100;
  const { table, markdown } = await runReport(outcome.sweepDir, { png: false }, () => undefined);
  assert.equal(table.metric, 'pixel_acc');
  assert.deepEqual(table.rows, { axes: ['method'], levels: ['slow', 'fast'] }, 'variants in the order the sweep writes them');
  assert.deepEqual(table.cols, { axes: ['train'], levels: ['8', '4'] }, 'grid values in the order the sweep writes them');
  assert.deepEqual(table.over, ['seed']);
  assert.equal(table.cells.length, 4);
  for (const c of table.cells) {
    assert.deepEqual(c.replicates, ['0', '1']);
    const want = [0, 1].map((s) => value(`method=${c.row},seed=${s},train=${c.col}`));
    assert.deepEqual(c.values.map((v) => v.toFixed(9)), want.map((v) => v.toFixed(9)));
  }
  assert.match(markdown, /^### sweep-axes-[0-9a-f]{8}\n\n\| method \\ train \| 8 \| 4 \|\n/);
  assert.match(markdown, /over 2 seeds per cell; 8 runs\./);

  // Transposed, and seeds as columns with the data size replicated.
  const t2 = (await runReport(outcome.sweepDir, { png: false, rows: 'train', cols: 'method' }, () => undefined)).table;
  assert.deepEqual([t2.rows.levels, t2.cols.levels, t2.over], [['8', '4'], ['slow', 'fast'], ['seed']]);
  const t3 = (await runReport(outcome.sweepDir, { png: false, rows: 'method', cols: 'seed', over: 'dataset.train' }, () => undefined)).table;
  assert.deepEqual([t3.rows.axes, t3.cols.levels, t3.over], [['method'], ['0', '1'], ['train']], 'an axis may be named by its dotted key');
  assert.deepEqual(cellAt(t3, 'fast', '1')!.values.map((v) => v.toFixed(9)), [value('method=fast,seed=1,train=8'), value('method=fast,seed=1,train=4')].map((v) => v.toFixed(9)));
  // Two axes on the rows.
  const t4 = (await runReport(outcome.sweepDir, { png: false, rows: 'method,train', cols: 'seed', over: '' }, () => undefined)).table;
  assert.deepEqual(t4.rows.levels, ['slow · 8', 'slow · 4', 'fast · 8', 'fast · 4']);
  assert.ok(t4.cells.every((c) => c.n === 1));
  // An axis left out of explicit rows is an error (averaging over it would mix experiments).
  await assert.rejects(runReport(outcome.sweepDir, { png: false, rows: 'method', cols: 'seed' }, () => undefined), /the sweep's axis 'train' is in none of --rows, --cols, --over/);
  await assert.rejects(runReport(outcome.sweepDir, { png: false, rows: 'method', cols: 'method' }, () => undefined), /axis 'method' is named twice/);
  await assert.rejects(runReport(outcome.sweepDir, { png: false, cols: 'trian' }, () => undefined), (e: Error & { hint?: string }) => /did you mean 'train'\?/.test(e.hint ?? ''));
});
