import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runSweep, type SweepCellInput } from '../../src/engine/sweep.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';
import { quietLog } from '../support/log.js';
import { cliEntryFromSource } from '../support/cli.js';
import { tinyPluginsFile } from '../support/paths.js';

const here = path.dirname(fileURLToPath(import.meta.url));

function records(runDir: string) {
  return readFileSync(path.join(runDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

function cells(out: string, extra: Record<string, unknown> = {}): SweepCellInput[] {
  return [0.5, 0.05].map((lr) => {
    const e = tinyExperiment(out, { trainer: { iterations: 6 } });
    (e.config.optimizer as Record<string, unknown>).lr = lr;
    (e.config.scheduler as Record<string, unknown>).lr = lr;
    Object.assign(e.config, extra);
    const canonicalYaml = `${JSON.stringify(e.config, null, 2)}\n`;
    return { name: `lr=${lr}`, labels: { lr }, diff: { 'optimizer.lr': lr }, experiment: { ...e, canonicalYaml, hash: `${lr === 0.5 ? 'a' : 'b'}${e.hash.slice(1)}` } };
  });
}

test('a sweep runs every cell as a child of one parent run and prints a summary', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-sweep-'));
  const lines: string[] = [];
  const r = await runSweep(cells(out), { registry: tinyRegistry(), file: 'lr-sweep.yaml', log: quietLog, out: (l) => lines.push(l) });
  assert.equal(r.status, 'FINISHED');
  assert.deepEqual(r.cells.map((c) => [c.name, c.status]), [['lr=0.5', 'FINISHED'], ['lr=0.05', 'FINISHED']]);
  assert.ok(path.basename(r.sweepDir).startsWith('sweep-lr-sweep-'));
  const parent = records(r.sweepDir);
  const parentId = parent[0]!.id;
  assert.equal(parentId, r.parentRunId);
  const params = Object.assign({}, ...parent.filter((e) => e.t === 'params').map((e) => e.p));
  assert.equal(params['sweep.axis.lr'], '0.5, 0.05');
  assert.equal(parent.at(-1)!.status, 'FINISHED');
  assert.ok(!parent.some((e) => e.t === 'metrics'), 'the parent logs no by-index cell metrics');
  // The parent carries `ablate report`'s table and plot of the finished sweep.
  const reported = parent.filter((e) => e.t === 'artifact').map((e) => String(e.path ?? e.artifactPath ?? JSON.stringify(e)));
  for (const name of ['report.md', 'report.json', 'report.png']) assert.ok(reported.some((a) => a.includes(name)), `${name} among ${reported.join(', ')}`);
  assert.match(readFileSync(path.join(r.sweepDir, 'report', 'report.md'), 'utf8'), /pixel_acc/);
  for (const c of r.cells) {
    const child = records(c.runDir!);
    assert.equal(child[0]!.parent, parentId, `${c.name} is a child of the sweep run`);
    // Every lr is a whole-number reciprocal, so it reads as a fraction, as in `ablate report`.
    assert.equal(child[0]!.name, c.name === 'lr=0.5' ? '1/2' : '1/20', 'the short name the trackers show');
    const childParams = Object.assign({}, ...child.filter((e) => e.t === 'params').map((e) => e.p));
    assert.equal(childParams['sweep.lr'], c.name === 'lr=0.5' ? '0.5' : '0.05', 'every axis is a param');
    assert.ok(existsSync(path.join(r.sweepDir, 'cells', `${c.name}.yaml`)));
    assert.ok(c.metrics.pixel_acc !== undefined);
  }
  const table = lines.join('\n');
  assert.match(table, /\| cell +\| lr +\| status +\| pixel_acc/);
  assert.match(table, /lr=0\.05 +\| 0\.05 +\| FINISHED/);
  assert.ok(readFileSync(path.join(r.sweepDir, 'summary.md'), 'utf8').includes('lr=0.5'));
});

test('parallel: 2 runs the cells as child ablate run processes', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-sweep-'));
  process.env.ABLATE_RUN_ENTRY = JSON.stringify(cliEntryFromSource);
  try {
    const input = cells(out, { plugins: [tinyPluginsFile], launcher: { type: 'local', parallel: 2 } });
    const logged: string[] = [];
    const r = await runSweep(input, { registry: tinyRegistry(), log: { ...quietLog, info: (m) => logged.push(m) }, out: () => {} });
    assert.equal(r.status, 'FINISHED', JSON.stringify(r.cells) + logged.join('\n'));
    for (const c of r.cells) {
      const child = records(c.runDir!);
      assert.equal(child[0]!.parent, r.parentRunId);
      assert.equal(child.at(-1)!.status, 'FINISHED');
      assert.ok(c.metrics.pixel_acc !== undefined, 'metrics read back from the child run folder');
      // A child process gets the short name and the axis params through `ablate run`'s flags.
      assert.equal(child[0]!.name, c.name === 'lr=0.5' ? '1/2' : '1/20');
      assert.equal(Object.assign({}, ...child.filter((e) => e.t === 'params').map((e) => e.p))['sweep.lr'], c.name.slice('lr='.length));
    }
    assert.ok(logged.some((l) => l.startsWith('[lr=0.05] ')), 'child output is prefixed with the cell name');
  } finally {
    delete process.env.ABLATE_RUN_ENTRY;
  }
});

test('an interrupted sweep resumes: finished cells kept, the stopped one continues, the rest run', async () => {
  const { runsFromFolder } = await import('../../src/report/index.js');
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-sweep-resume-'));
  const three = (): SweepCellInput[] =>
    [0.5, 0.05, 0.01].map((lr, i) => {
      const e = tinyExperiment(out, { trainer: { iterations: 6 } });
      (e.config.optimizer as Record<string, unknown>).lr = lr;
      (e.config.scheduler as Record<string, unknown>).lr = lr;
      return { name: `lr=${lr}`, labels: { lr }, diff: { 'optimizer.lr': lr }, experiment: { ...e, canonicalYaml: `${JSON.stringify(e.config)}\n`, hash: `${'abc'[i]}${e.hash.slice(1)}` } };
    });
  // Ctrl-C while the second cell trains: it checkpoints and stops, the third never starts.
  const ctrlC = new AbortController();
  const log = { ...quietLog, info: (m: string) => (m === 'cell lr=0.05' ? setImmediate(() => ctrlC.abort()) : undefined) };
  const first = await runSweep(three(), { registry: tinyRegistry(), file: 'resume.yaml', log, out: () => {}, signal: ctrlC.signal });
  assert.equal(first.status, 'KILLED');
  assert.deepEqual(first.cells.map((c) => c.status), ['FINISHED', 'KILLED', 'KILLED']);
  const keptResult = readFileSync(path.join(first.cells[0]!.runDir!, 'result.json'), 'utf8');

  const lines: string[] = [];
  const again = await runSweep(three(), { registry: tinyRegistry(), file: 'resume.yaml', log: { ...quietLog, info: (m) => lines.push(m) }, out: () => {}, resume: first.sweepDir });
  assert.equal(again.status, 'FINISHED');
  assert.equal(again.sweepDir, first.sweepDir);
  assert.deepEqual(again.cells.map((c) => [c.status, c.runDir]), first.cells.map((c) => ['FINISHED', c.runDir]));
  assert.ok(lines.some((l) => /1 finished cell\(s\) kept, 1 continue from their last checkpoint, 1 \(re\)start/.test(l)), lines.join('\n'));
  assert.equal(readFileSync(path.join(first.cells[0]!.runDir!, 'result.json'), 'utf8'), keptResult, 'the finished cell did not run again');
  const resumed = JSON.parse(readFileSync(path.join(first.cells[1]!.runDir!, 'result.json'), 'utf8')) as { iteration: number; status: string };
  assert.deepEqual([resumed.status, resumed.iteration], ['FINISHED', 6]);
  // The resumption continues the sweep's parent run: one record. Its writers in turn: the sweep
  // (start), whoever ended it (resume, KILLED), the resumed sweep (resume), whoever ended that.
  const parent = readFileSync(path.join(first.sweepDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { t: string; status?: string });
  assert.deepEqual(parent.filter((e) => ['start', 'end', 'resume'].includes(e.t)).map((e) => e.status ?? e.t), ['start', 'resume', 'KILLED', 'resume', 'resume', 'FINISHED']);
  assert.ok(!existsSync(path.join(first.sweepDir, 'resume-1')), 'no second parent record');

  // The report sees three finished cells, each once.
  const runs = runsFromFolder(first.sweepDir, 'last').filter((r) => r.tags['ablate.sweep'] !== 'parent');
  assert.deepEqual(runs.map((r) => r.status).sort(), ['FINISHED', 'FINISHED', 'FINISHED']);

  // Another sweep cannot be resumed into this folder.
  await assert.rejects(runSweep(three().slice(0, 2), { registry: tinyRegistry(), log: quietLog, out: () => {}, resume: first.sweepDir }), /ran other cells/);
  await assert.rejects(runSweep(three(), { registry: tinyRegistry(), log: quietLog, out: () => {}, resume: out }), /not a sweep folder/);
});

test('a cell whose components fail to build fails alone: the later cells still run (nothing it built stays registered)', async () => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'ablate-sweep-broken-'));
  const three: SweepCellInput[] = ['a', 'b', 'c'].map((name, i) => {
    const e = tinyExperiment(out, { trainer: { iterations: 3 } });
    // Cell a names a data set whose files are missing: its trainer has built the model (whose
    // variables are named model/…) before the data set fails.
    if (name === 'a') e.config.dataset = { type: 'voc', root: path.join(out, 'no-such-data') };
    const canonicalYaml = `${JSON.stringify(e.config, null, 2)}\n`;
    return { name, labels: { cell: name }, diff: {}, experiment: { ...e, canonicalYaml, hash: `${'abc'[i]}${e.hash.slice(1)}` } };
  });
  const r = await runSweep(three, { registry: tinyRegistry(), file: 'broken-first.yaml', log: quietLog, out: () => {} });
  assert.deepEqual(r.cells.map((c) => [c.name, c.status]), [['a', 'FAILED'], ['b', 'FINISHED'], ['c', 'FINISHED']], JSON.stringify(r.cells.map((c) => c.error)));
  assert.match(r.cells[0]!.error ?? '', /no-such-data/, 'the failed cell says what was missing');
  assert.doesNotMatch(r.cells.map((c) => c.error ?? '').join('\n'), /already registered/);
});

test('cell display names are short and distinct: variant, fractions as 1/n, seeds as s<n>', async () => {
  const { displayNames } = await import('../../src/engine/sweep.js');
  const axes = [
    { label: 'method', key: 'method', values: ['adv-semi', 'baseline'], variant: true },
    { label: 'labeled_fraction', key: 'dataset.labeled_fraction', values: [0.125, 0.5, 1], variant: false },
    { label: 'seed', key: 'seed', values: [0, 1], variant: false },
  ];
  const cell = (labels: Record<string, unknown>) => ({ name: JSON.stringify(labels), labels, diff: {}, experiment: undefined as never });
  const cells = [cell({ labeled_fraction: 0.125, method: 'adv-semi', seed: 0 }), cell({ labeled_fraction: 1, method: 'baseline', seed: 1 }), cell({ labeled_fraction: 0.3, method: 'baseline', seed: 1 })];
  assert.deepEqual([...displayNames(cells, axes).values()], ['adv-semi · 1/8 · s0', 'baseline · 1 · s1', 'baseline · 0.3 · s1']);
  // 0.3 is no reciprocal: with it on the axis, the axis is written as decimals.
  const decimals = [...displayNames(cells, axes.map((a) => (a.label === 'labeled_fraction' ? { ...a, values: [0.125, 0.3, 1] } : a))).values()];
  assert.deepEqual(decimals, ['adv-semi · 0.125 · s0', 'baseline · 1 · s1', 'baseline · 0.3 · s1']);
  // Values that would print alike keep the full cell names.
  const twins = [cell({ a: '1', b: 2 }), cell({ a: 1, b: 2 })];
  assert.deepEqual([...displayNames(twins, []).values()], twins.map((c) => c.name));
});
