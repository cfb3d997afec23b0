import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { expandSweep, loadExperiment, loadCell } from '../../src/config/index.js';
import { ConfigError } from '../../src/config/errors.js';
import { testRegistry, MINIMAL, errorsOf } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();

const TABLE = `${MINIMAL}sweep:
  grid:
    dataset.labeled_fraction: [0.125, 0.5, 1.0]
    seed: [1, 2]
  variant_axis: method
  variants:
    baseline: {}
    adv-semi:
      discriminator: {type: fcdisc}
      trainer.type: adversarial-semi
      trainer.lambda_adv: 0.02
  exclude:
    - {labeled_fraction: 1.0, method: adv-semi}
`;

test('grid × variants − exclude expands to named, resolved, validated cells', async () => {
  const dir = writeTree({ 'table.yaml': TABLE });
  const cells = await expandSweep(path.join(dir, 'table.yaml'), { registry });
  assert.equal(cells.length, 3 * 2 * 2 - 2);
  const names = cells.map((c) => c.name);
  assert.ok(names.includes('labeled_fraction=0.125,method=adv-semi,seed=1'));
  assert.ok(!names.some((n) => n.startsWith('labeled_fraction=1,method=adv-semi')));
  const cell = cells.find((c) => c.name === 'labeled_fraction=0.125,method=adv-semi,seed=1')!;
  assert.deepEqual(cell.labels, { labeled_fraction: 0.125, method: 'adv-semi', seed: 1 });
  assert.equal(cell.diff['dataset.labeled_fraction'], 0.125);
  assert.equal(cell.diff['trainer.type'], 'adversarial-semi');
  const c = cell.experiment.config as Record<string, Record<string, unknown>>;
  assert.equal(c.trainer!.type, 'adversarial-semi');
  assert.equal(c.trainer!.lambda_adv, 0.02);
  assert.equal(c.discriminator!.ndf, 64, 'defaults applied in every cell');
  assert.equal(c.dataset!.labeled_fraction, 0.125);
  assert.equal(c.sweep, undefined, 'the sweep block is not part of a cell');
  assert.equal(new Set(cells.map((x) => x.experiment.hash)).size, cells.length, 'every cell has its own identity');
  // Provenance of a cell's value points at the sweep entry that set it.
  const o = cell.experiment.provenance['dataset.labeled_fraction']!.origin;
  assert.equal(o.kind, 'sweep');
  assert.equal(o.line, 8);
  // The base of a sweep file loads on its own and lists the cells.
  const base = await loadExperiment(path.join(dir, 'table.yaml'), { registry });
  assert.equal(base.sweep?.cells.length, 10);
  assert.equal((await loadCell(path.join(dir, 'table.yaml'), cell.name, { registry })).hash, cell.experiment.hash);
});

test('--set applies to every cell and can change the sweep itself', async () => {
  const dir = writeTree({ 'table.yaml': TABLE });
  const cells = await expandSweep(path.join(dir, 'table.yaml'), { registry, set: ['trainer.iterations=7', 'sweep.grid.seed=[5]'] });
  assert.equal(cells.length, 5);
  for (const c of cells) assert.equal((c.experiment.config.trainer as Record<string, unknown>).iterations, 7);
  assert.ok(cells.every((c) => c.labels.seed === 5));
});

test('errors of all cells are reported at once, each once, naming its cells', async () => {
  const bad = TABLE.replace('trainer.lambda_adv: 0.02', 'trainer.lambda_adv: high').replace('dataset.labeled_fraction: [0.125, 0.5, 1.0]', 'dataset.labeled_fraction: [0.125, 0.5, 2]');
  const dir = writeTree({ 'table.yaml': bad.replace('{labeled_fraction: 1.0, method: adv-semi}', '{labeled_fraction: 2, method: adv-semi}') });
  const errs = await errorsOf(() => expandSweep(path.join(dir, 'table.yaml'), { registry }));
  assert.equal(errs.length, 2, errs.map((e) => e.message).join('\n'));
  const [range, type] = errs;
  assert.equal(range!.where?.line, 8);
  assert.equal(range!.where?.key, 'dataset.labeled_fraction');
  assert.match(range!.message, /expected a number <= 1, found number 2/);
  assert.match((range as ConfigError).notes.join(' '), /in sweep cells labeled_fraction=2,method=baseline,seed=1/);
  assert.equal(type!.where?.line, 16);
  assert.equal(type!.where?.key, 'trainer.lambda_adv');
  assert.match((type as ConfigError).notes.join(' '), /variant adv-semi/);
});

test('exclude entries must name real axes and values', async () => {
  const dir = writeTree({ 'table.yaml': TABLE.replace('{labeled_fraction: 1.0, method: adv-semi}', '{labeled_frac: 1.0, method: adv}') });
  const errs = await errorsOf(() => expandSweep(path.join(dir, 'table.yaml'), { registry }));
  assert.deepEqual(errs.map((e) => e.code), ['sweep.unknown-axis', 'sweep.exclude-never-matches']);
  assert.match(errs[0]!.hint ?? '', /did you mean 'labeled_fraction'/);
  assert.equal(errs[0]!.where?.line, 18);
});

test('operators inside a variant apply to the cell, not to the file that declares the sweep', async () => {
  const dir = writeTree({
    'base.yaml': `${MINIMAL.replace('{type: toynet}', '{type: toynet, rates: [6, 12]}')}discriminator: {type: fcdisc}\nlosses: {seg: {type: ce2d}}\n`,
    's.yaml': 'extends: base.yaml\nsweep:\n  variants:\n    plain: {discriminator~:, losses: {aux: {type: ce2d}}}\n    adv: {model.rates+: [24]}\n',
  });
  const cells = await expandSweep(path.join(dir, 's.yaml'), { registry });
  const plain = cells.find((c) => c.name === 'variant=plain')!.experiment.config;
  const adv = cells.find((c) => c.name === 'variant=adv')!.experiment.config;
  assert.equal(plain.discriminator, undefined);
  assert.deepEqual(Object.keys(plain.losses as object), ['aux', 'seg']);
  assert.equal((adv.discriminator as Record<string, unknown>).type, 'fcdisc');
  assert.deepEqual((adv.model as Record<string, unknown>).rates, [6, 12, 24]);
});

test('a grid axis that repeats a value is an error in validate, located at the repeat', async () => {
  const { checkFile } = await import('../../src/config/index.js');
  const dir = writeTree({ 'dup.yaml': `${MINIMAL}sweep:\n  grid:\n    seed: [1, 2, 1]\n    model.depth: [50, 101]\n` });
  const errs = await errorsOf(() => checkFile(path.join(dir, 'dup.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line, e.where?.column]),
    [['sweep.duplicate-value', 'sweep.grid.seed.2', 8, 18]],
  );
  assert.match(errs[0]!.message, /lists 1 twice \(items 0 and 2\)/);
});

test('a variant extending a missing file or a directory is located at its extends entry', async () => {
  const { checkFile } = await import('../../src/config/index.js');
  const dir = writeTree({ 'sub/x.yaml': 'name: x\n', 's.yaml': `${MINIMAL}sweep:\n  variants:\n    a: {extends: nope.yaml}\n    b: {extends: [sub/x.yaml, sub]}\n` });
  const errs = await errorsOf(() => checkFile(path.join(dir, 's.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line]),
    [
      ['config.extends-not-found', 'sweep.variants.a.extends', 8],
      ['config.extends-not-a-file', 'sweep.variants.b.extends.1', 9],
    ],
  );
});

test('variants that resolve to the same config are an error in validate, located at the later variant', async () => {
  const { checkFile } = await import('../../src/config/index.js');
  // `same` writes the lr the base file has: as written it differs from `plain`, resolved it does not.
  const dir = writeTree({ 'v.yaml': `${MINIMAL}sweep:\n  grid: {seed: [1, 2]}\n  variants:\n    plain: {}\n    same: {optimizer.lr: 0.01}\n    fast: {optimizer.lr: 0.02}\n` });
  const errs = await errorsOf(() => checkFile(path.join(dir, 'v.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line, e.where?.column]),
    [['sweep.duplicate-cell', 'sweep.variants.same', 10, 5]],
    'one error for both seeds, at the key of the variant that changes nothing',
  );
  assert.match(errs[0]!.message, /sweep cells seed=1,variant=plain and seed=1,variant=same resolve to the same config \([0-9a-f]{12}\): variant 'same' changes nothing that variant 'plain' does not/);
  const notes = (errs[0] as ConfigError).notes.join('\n');
  assert.match(notes, /the other cell's variant 'plain' is at .*v\.yaml:9:5/);
  assert.match(notes, /also cells seed=2,variant=plain and seed=2,variant=same/);
});

test('a variant that overrides a grid axis makes identical cells: an error at the grid value, naming the variant', async () => {
  const dir = writeTree({ 'g.yaml': `${MINIMAL}sweep:\n  grid:\n    optimizer.lr: [0.1, 0.2]\n  variants:\n    free: {}\n    pinned: {optimizer.lr: 0.5}\n` });
  const errs = await errorsOf(() => expandSweep(path.join(dir, 'g.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line]),
    [['sweep.duplicate-cell', 'sweep.grid.optimizer.lr.1', 8]],
  );
  assert.match(errs[0]!.message, /lr=0\.1,variant=pinned and lr=0\.2,variant=pinned resolve to the same config/);
  assert.match(errs[0]!.hint ?? '', /variant 'pinned' sets optimizer\.lr itself, overriding the grid/);
});

test('two cells whose values print the same would share a run folder: an error', async () => {
  const { definePlugin } = await import('../../src/index.js');
  const r = testRegistry();
  r.registerAll([definePlugin({ kind: 'model', type: 'freenet', description: 'Test model with an untyped option.', options: { type: 'object', properties: { tag: { description: 'Anything.' } }, additionalProperties: false }, create: () => ({}) as never })], 'test');
  const dir = writeTree({ 'n.yaml': `${MINIMAL.replace('toynet', 'freenet')}sweep:\n  grid:\n    model.tag: ['1', 1, 2]\n` });
  const errs = await errorsOf(() => expandSweep(path.join(dir, 'n.yaml'), { registry: r }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line]),
    [['sweep.duplicate-name', 'sweep.grid.model.tag.1', 8]],
  );
  assert.match(errs[0]!.message, /two sweep cells are both named tag=1 \(their values differ but print the same: tag "1" and 1\)/);
});
