/**
 * `ablate report`: the table laid out by the sweep's own axes (defaults and --rows/--cols/--over),
 * from a real sweep folder written by the tiny test plugins, and from hand-made local records;
 * its numbers, Markdown and SVG/PNG plot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { trackingWith } from '../../src/tracking/open.js';
import { asReciprocal, bootstrapInterval, buildTable, cellAt, levelLabels, meanStd, pairedDelta, parseStepWindow, runsFromFolder, studentTQuantile, tInterval, DEFAULT_SPEC } from '../../src/report/index.js';
import { runReport } from '../../src/cli/commands/report.js';
import { runSweep } from '../../src/cli/commands/sweep-run.js';
import { quietLog } from '../support/log.js';
import { TINY_SCHEDULER, writeTinyExperiment } from '../support/tiny-experiment-file.js';

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
  assert.match(markdown, /miou \(%\), mean ± sample std \(n − 1\) over 2 params\.seeds per cell/);
  // Best per column in bold: adversarial-semi at 1/8 and 1/2 (62.75 prints as 62.7 or 62.8 by float rounding), adversarial at 1.
  assert.match(markdown, /\| adversarial-semi \| \*\*62\.[78] ± 0\.7\*\* \| \*\*66\.5 ± 0\.7\*\* \| – \|/);
  assert.match(markdown, /\| adversarial \| 57\.[78] ± 0\.7 \| 61\.5 ± 0\.7 \| \*\*66\.5 ± 0\.7\*\* \|/);
  // Paired by seed, every adversarial run is its supervised twin + 5 points: Δ +5.0, interval [+5.0, +5.0].
  assert.match(markdown, /Δ to supervised, paired by params\.seed: mean \[95 % t interval\]/);
  assert.match(markdown, /\| adversarial \| \+5\.0 \[\+5\.0, \+5\.0\] \* \| \+5\.0 \[\+5\.0, \+5\.0\] \* \| \+5\.0 \[\+5\.0, \+5\.0\] \* \|/);
  assert.match(markdown, /\| adversarial-semi \| \+10\.0 \[\+10\.0, \+10\.0\] \* \| \+10\.0 \[\+10\.0, \+10\.0\] \* \| – \|/);
  assert.ok(printed.includes(markdown));
  const file = (ext: string) => files.find((f) => f.endsWith(ext))!;
  const svg = readFileSync(file('.svg'), 'utf8');
  assert.match(svg, /^<svg/);
  assert.equal((svg.match(/<path /g) ?? []).length, 3, 'one line per row');
  assert.match(svg, />params\.dataset\.labeled_fraction</, 'the x axis is named after the columns axis');
  assert.match(svg, /font-weight="bold">e</, 'titled by the experiment');
  const xs = [...svg.matchAll(/<circle cx="([\d.]+)" cy="[\d.]+" r="4" fill="[^"]+"><title>[^ ]+ 1\/8:/g)].map((m) => Number(m[1]));
  assert.equal(new Set(xs).size, 3, 'the series sit side by side at a column, not on top of each other');
  const json = JSON.parse(readFileSync(file('.json'), 'utf8')) as { std: string; interval: string; baseline: string; cells: { row: string; col: string; values: number[]; replicates: string[]; mean: number; std: number; n: number; delta?: { mean: number; low: number; high: number; n: number } }[] };
  assert.deepEqual([json.std, json.interval, json.baseline], ['sample', 't', 'supervised']);
  const adv = json.cells.find((c) => c.row === 'adversarial' && c.col === '0.5')!;
  assert.deepEqual([adv.n, adv.replicates, adv.delta?.n], [2, ['1', '2'], 2]);
  assert.ok(Math.abs(adv.delta!.mean - 5) < 1e-9);
  const csv = readFileSync(file('.csv'), 'utf8').trim().split('\n');
  assert.equal(csv[0], 'row,col,n,mean,std,ci_low,ci_high,replicates,values,baseline,delta_n,delta_mean,delta_low,delta_high,delta_excludes_zero');
  assert.equal(csv.length, 1 + 8);
  assert.match(readFileSync(file('.tex'), 'utf8'), /adversarial-semi & \\textbf\{62\.[78] \$\\pm\$ 0\.7\}\$\^\*\$ &/);
  const png = readFileSync(file('.png'));
  assert.equal(png.subarray(1, 4).toString(), 'PNG');
  assert.ok(png.length > 5000);
});

test('paired statistics against hand-computed values: t quantiles and interval, bootstrap with a fixed seed, pairing by replicate', () => {
  // Student t 0.975 quantiles (any table): df 1, 2, 4, 9, 30.
  for (const [df, q] of [[1, 12.7062], [2, 4.3027], [4, 2.7764], [9, 2.2622], [30, 2.0423]] as const) assert.ok(Math.abs(studentTQuantile(0.975, df) - q) < 1e-4, `df ${df}`);
  // Differences 1, 2, 3: mean 2, sd 1, half width 4.3027 / √3 = 2.4841.
  const t = tInterval([1, 2, 3]);
  assert.ok(Math.abs(t.mean - 2) < 1e-12 && Math.abs(t.low - (2 - 2.48414)) < 1e-4 && Math.abs(t.high - (2 + 2.48414)) < 1e-4, JSON.stringify(t));
  assert.ok(Number.isNaN(tInterval([4]).low), 'no interval from one value');
  // Differences 0 and 2: a resample's mean is 0, 1 or 2 with probability 1/4, 1/2, 1/4, so the
  // 2.5 % and 97.5 % percentiles of 10000 resamples are 0 and 2.
  assert.deepEqual(bootstrapInterval([0, 2], 123), { mean: 1, low: 0, high: 2 });
  assert.deepEqual(bootstrapInterval([1, 2, 3, 4], 7), bootstrapInterval([1, 2, 3, 4], 7), 'the same seed, the same interval');
  const b = bootstrapInterval([0.5, 1.5, 1.0, 2.5, -0.5], 1);
  assert.ok(b.low > -0.5 && b.low < 1 && b.high > 1 && b.high < 2.5, JSON.stringify(b));
  // Pairing is by replicate name, not position; unpaired replicates are left out.
  const d = pairedDelta({ values: [10, 20, 30], replicates: ['2', '0', '9'] }, { values: [1, 2, 3], replicates: ['0', '1', '2'] }, 'ref');
  assert.deepEqual([d!.n, d!.differences, d!.baseline, d!.method], [2, [7, 19], 'ref', 't']);
  assert.equal(d!.excludesZero, false, 'the interval of 7 and 19 (13 ± 76) holds 0');
});

test('report options: another metric and aggregate, and clear errors for an unknown metric or axis', async () => {
  const { dir } = await makeRuns();
  const max = buildTable(runsFromFolder(dir, 'max'), { ...byParams, metric: ['iou/x'], percent: false });
  assert.equal(max.metric, 'iou/x');
  assert.equal(max.percent, false);
  assert.ok(Math.abs(cellAt(max, 'supervised', '0.125')!.mean - 0.3) < 1e-12);
  await assert.rejects(runReport(dir, { ...{ rows: 'params.trainer.type' }, metric: 'val/nope', png: false }, () => undefined), /none of the runs has the metric val\/nope/);
  await assert.rejects(runReport(dir, { rows: 'params.nope', png: false }, () => undefined), /--rows names 'params\.nope', which is neither a sweep axis nor a param or tag of any run/);
  // Another reference row, and the bootstrap interval.
  const other = buildTable(runsFromFolder(dir, 'last'), { ...byParams, percent: 'auto', baseline: 'adversarial', interval: 'bootstrap', seed: 3 });
  assert.equal(cellAt(other, 'adversarial', '0.5')!.delta, undefined);
  const sup = cellAt(other, 'supervised', '0.5')!.delta!;
  assert.deepEqual([sup.method, sup.baseline, sup.n], ['bootstrap', 'adversarial', 2]);
  assert.ok(Math.abs(sup.mean + 5) < 1e-9 && Math.abs(sup.low + 5) < 1e-9 && Math.abs(sup.high + 5) < 1e-9);
  await assert.rejects(runReport(dir, { ...{ rows: 'params.trainer.type', cols: 'params.dataset.labeled_fraction', over: 'params.seed' }, baseline: 'nope', png: false }, () => undefined), /--baseline 'nope' is not a row of the table/);
  let latex = '';
  await runReport(dir, { rows: 'params.trainer.type', cols: 'params.dataset.labeled_fraction', over: 'params.seed', latex: true, png: false }, (t) => void (latex += t));
  assert.match(latex, /^% miou \(%\)/);
  assert.match(latex, /\\begin\{tabular\}\{lrrr\}/);
});

test('report --aggregate mean --steps: a diagnostic averaged over a phase of each run, named in the caption', async () => {
  const { dir } = await makeRuns();
  // Every run logged miou 0.1 at step 0 and its final value at step 100.
  const runs = runsFromFolder(dir, 'mean');
  const sup = runs.find((r) => r.name === 'supervised-0.125-1')!;
  const last = 0.5 + 0.1 * 0.125 + 0.01;
  assert.ok(Math.abs(sup.metrics.miou! - (0.1 + last) / 2) < 1e-12, 'the mean of the whole history');
  assert.ok(Math.abs(runsFromFolder(dir, 'mean', { from: 50 }).find((r) => r.name === sup.name)!.metrics.miou! - last) < 1e-12, 'steps 50 onwards: only the point at 100');
  assert.ok(Math.abs(runsFromFolder(dir, 'last', { to: 100 }).find((r) => r.name === sup.name)!.metrics.miou! - 0.1) < 1e-12, 'the last point before step 100');
  assert.ok(Number.isNaN(runsFromFolder(dir, 'max', { from: 500 }).find((r) => r.name === sup.name)!.metrics.miou!), 'no point in the window: no value, not -Infinity');
  assert.deepEqual(parseStepWindow('1500:2000'), { from: 1500, to: 2000 });
  assert.deepEqual(parseStepWindow(':500'), { to: 500 });
  assert.throws(() => parseStepWindow('20:10'), /--steps 20:10 is empty/);
  assert.throws(() => parseStepWindow('abc'), /--steps must be FROM:TO/);
  let md = '';
  await runReport(dir, { ...{ rows: 'params.trainer.type', cols: 'params.dataset.labeled_fraction', over: 'params.seed' }, aggregate: 'mean', steps: '0:100', png: false }, (t) => void (md += t));
  assert.match(md, /^miou \(%\) \(each run's mean over steps 0–99\), mean ± sample std/m);
  assert.match(md, /\| supervised \| \*\*10\.0 ± 0\.0\*\* \|/, 'steps 0 to 99 hold only the first point (0.1)');
  await assert.rejects(runReport(dir, { aggregate: 'median', png: false }, () => undefined), /--aggregate must be last, max, min, mean/);
});

test('replicates are listed in the axis order (seed 0, 1, 2), not in the order the runs started', () => {
  // A cluster starts array tasks in any order: here seed 2 started first, then 0, then 1.
  const run = (seed: string, start: number, miou: number) => ({
    id: `r${seed}`, name: `s${seed}`, status: 'FINISHED', startTime: start,
    params: { 'trainer.type': 'supervised', 'dataset.labeled_fraction': '1', seed }, tags: {}, metrics: { miou },
  });
  const t = buildTable([run('2', 1, 0.3), run('0', 2, 0.1), run('1', 3, 0.2)], { ...byParams, metric: ['miou'], percent: false });
  const c = cellAt(t, 'supervised', '1')!;
  assert.deepEqual(c.replicates, ['0', '1', '2']);
  assert.deepEqual(c.values, [0.1, 0.2, 0.3]);
  assert.deepEqual(c.runs, ['s0', 's1', 's2']);
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

test('runs of a sweep from before the axes tag: the axis of names is the rows, the numeric one the columns, seeds replicate', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-report-old-'));
  const tracker = trackingWith([], quietLog);
  const parent = await tracker.startRun({ name: 'sweep:table', experiment: 'old', params: {}, tags: { 'ablate.sweep': 'parent' }, runDir: dir });
  for (const fraction of ['0.125', '1']) {
    for (const method of ['baseline', 'adv']) {
      for (const seed of ['0', '1']) {
        const tags = { 'ablate.sweep.labeled_fraction': fraction, 'ablate.sweep.method': method, 'ablate.sweep.seed': seed };
        const run = await tracker.startRun({ name: `${fraction}-${method}-${seed}`, experiment: 'old', params: { 'evaluation.headline': '["miou"]' }, tags, runDir: path.join(dir, `${fraction}-${method}-${seed}`), parentRunId: parent.id });
        run.logMetrics(1, { miou: 0.1 + (method === 'adv' ? 0.02 : 0) + Number(fraction) / 10 + Number(seed) / 100 });
        await run.end('FINISHED');
      }
    }
  }
  await parent.end('FINISHED');
  // (Runs made within one millisecond have no order of their own: the reference row is named.)
  const { table, markdown } = await runReport(dir, { png: false, baseline: 'baseline' }, () => undefined);
  assert.deepEqual([table.rows.axes, table.cols.axes, table.over], [['method'], ['labeled_fraction'], ['seed']]);
  assert.deepEqual([[...table.rows.levels].sort(), table.cols.levels, table.baseline], [['adv', 'baseline'], ['0.125', '1'], 'baseline']);
  assert.match(markdown, /\| method \\ labeled_fraction \| 1\/8 \| 1 \|/);
  assert.match(markdown, /\| adv \| \+2\.0 \[\+2\.0, \+2\.0\] \* \| \+2\.0 \[\+2\.0, \+2\.0\] \* \|/);
});

// ─── a real sweep folder (tiny plugins) ──

/** A sweep of two variants × two training-set sizes × two seeds; `fast` adds its own settings. */
function sweepFile(dir: string, fast: Record<string, unknown> = {}): string {
  return writeTinyExperiment(
    dir,
    {
      name: 'report-axes',
      seed: 0,
      scheduler: TINY_SCHEDULER,
      dataset: { type: 'test-tiny-data', val: 3 },
      trainer: { type: 'test-supervised', iterations: 3, batch_size: 2 },
      evaluation: { headline: ['pixel_acc'] },
      checkpoint: { every: 0 },
      progress: { bar: 'never' },
      sweep: {
        variant_axis: 'method',
        variants: { slow: { 'optimizer.lr': 0.01, 'scheduler.lr': 0.01 }, fast: { 'optimizer.lr': 0.5, 'scheduler.lr': 0.5, ...fast } },
        grid: { 'dataset.train': [8, 4], seed: [0, 1] },
      },
    },
    { file: 'axes.yaml' },
  );
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
  assert.match(markdown, /^### report-axes\n\n\| method \\ train \| 8 \| 4 \|\n/);
  // The reference row is the sweep's first variant; fast's Δ is paired by seed.
  assert.equal(table.baseline, 'slow');
  for (const c of table.cells.filter((x) => x.row === 'fast')) {
    const ref = cellAt(table, 'slow', c.col)!;
    assert.deepEqual(c.delta!.differences.map((d) => d.toFixed(9)), c.values.map((v, i) => (v - ref.values[i]!).toFixed(9)));
    assert.equal(c.delta!.n, 2);
  }
  assert.equal(cellAt(table, 'slow', '8')!.delta, undefined);
  assert.match(markdown, /over 2 seeds per cell; 8 runs;/);

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

test('a sweep whose variant sets its own output folder: the report finds those cells through sweep.json', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-report-elsewhere-'));
  const elsewhere = path.join(dir, 'elsewhere');
  const file = sweepFile(dir, { 'output.dir': elsewhere });
  const lines: string[] = [];
  const outcome = await runSweep(file, { set: [] }, (l) => lines.push(l));
  assert.equal(outcome.status, 'FINISHED', lines.join('\n'));
  const fastDirs = outcome.cells.filter((c) => c.name.includes('method=fast')).map((c) => c.runDir!);
  assert.equal(fastDirs.length, 4);
  for (const d of fastDirs) assert.ok(d.startsWith(elsewhere), `${d} is in the variant's own output folder`);
  const { table } = await runReport(outcome.sweepDir, { png: false }, () => undefined);
  assert.deepEqual(table.rows.levels, ['slow', 'fast'], 'both variants are rows');
  assert.ok(table.cells.every((c) => c.n === 2), `every cell has its 2 seeds: ${JSON.stringify(table.cells.map((c) => c.n))}`);
});
