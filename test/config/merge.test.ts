import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment } from '../../src/config/index.js';
import { testRegistry, MINIMAL, errorsOf } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();
const load = (dir: string, file: string, set: string[] = []) => loadExperiment(path.join(dir, file), { registry, set });

test('extends: one file or a list, relative to the file, later wins; maps deep-merge, lists replace', async () => {
  const dir = writeTree({
    'bases/model.yaml': 'model: {type: toynet, depth: 50, rates: [6, 12, 18]}\n',
    'bases/opt.yaml': 'extends: model.yaml\noptimizer: {type: sgd, lr: 0.1, momentum: 0.5}\n',
    'bases/opt2.yaml': 'optimizer: {lr: 0.2}\n',
    'exp/e.yaml': 'extends: [../bases/opt.yaml, ../bases/opt2.yaml]\nmodel: {rates: [24]}\ndataset: {type: toyvoc, root: d}\ntrainer: {type: supervised}\n',
  });
  const e = await load(dir, 'exp/e.yaml');
  const c = e.config as Record<string, Record<string, unknown>>;
  assert.equal(c.model!.depth, 50, 'deep-merged from the base of the base');
  assert.deepEqual(c.model!.rates, [24], 'lists replace');
  assert.equal(c.optimizer!.lr, 0.2, 'the later extends entry wins');
  assert.equal(c.optimizer!.momentum, 0.5, 'siblings survive a deep merge');
  assert.deepEqual(e.files.map((f) => path.relative(dir, f)), ['bases/model.yaml', 'bases/opt.yaml', 'bases/opt2.yaml', 'exp/e.yaml']);
});

test('key+ appends to an inherited list and key~ deletes an inherited key, in files and with --set', async () => {
  const dir = writeTree({
    'base.yaml': `${MINIMAL.replace('dataset: {type: toyvoc, root: data}', 'dataset: {type: toyvoc, root: d, transforms: [{type: crop}]}')}losses: {seg: {type: ce2d}, aux: {type: ce2d}}\n`,
    'e.yaml': 'extends: base.yaml\ndataset:\n  transforms+: [{type: mirror, p: 1}]\nlosses:\n  aux~:\n',
  });
  const e = await load(dir, 'e.yaml');
  const c = e.config as Record<string, Record<string, unknown>>;
  assert.deepEqual((c.dataset!.transforms as { type: string }[]).map((t) => t.type), ['crop', 'mirror']);
  assert.deepEqual(Object.keys(c.losses!), ['seg']);
  const viaSet = await load(dir, 'base.yaml', ['dataset.transforms+=[{type: mirror}]', 'losses.aux~', 'model.rates=[1, 2]']);
  const d = viaSet.config as Record<string, Record<string, unknown>>;
  assert.deepEqual((d.dataset!.transforms as { type: string }[]).map((t) => t.type), ['crop', 'mirror']);
  assert.deepEqual(Object.keys(d.losses!), ['seg']);
  assert.deepEqual(d.model!.rates, [1, 2], '--set values are YAML-typed');
  // `key~:` plus `key:` in one map replaces the inherited value instead of merging into it.
  const dir2 = writeTree({ 'base.yaml': `${MINIMAL}losses: {seg: {type: ce2d, ignore_label: 7}}\n`, 'e.yaml': 'extends: base.yaml\nlosses:\n  seg~:\n  seg: {type: ce2d}\n' });
  assert.equal(((await load(dir2, 'e.yaml')).config.losses as Record<string, Record<string, unknown>>).seg!.ignore_label, 255);
});

test('--set patches list items by index and sets typed scalars', async () => {
  const dir = writeTree({ 'e.yaml': `${MINIMAL.replace('dataset: {type: toyvoc, root: data}', 'dataset: {type: toyvoc, root: data, transforms: [{type: crop}, {type: mirror}]}')}` });
  const e = await load(dir, 'e.yaml', ['dataset.transforms.0.size=100', 'trainer.iterations=5', 'name=7x', 'seed=3']);
  const c = e.config as Record<string, Record<string, unknown>>;
  assert.equal((c.dataset!.transforms as Record<string, unknown>[])[0]!.size, 100);
  assert.equal(c.trainer!.iterations, 5);
  assert.equal(c.name, '7x');
  assert.equal(c.seed, 3);
});

test('a component whose type changes keeps the options the new plugin shares and drops the rest', async () => {
  const dir = writeTree({
    'base.yaml': MINIMAL.replace('{type: sgd, lr: 0.01}', '{type: sgd, lr: 0.01, momentum: 0.5}'),
    'e.yaml': 'extends: base.yaml\noptimizer: {type: adam}\n',
    'explicit.yaml': 'extends: base.yaml\noptimizer: {type: adam, momentum~:, lr: 0.2}\n',
  });
  const e = await load(dir, 'e.yaml');
  // lr is an option of both: inherited, not reset to adam's default; momentum is sgd's only: dropped.
  assert.deepEqual(e.config.optimizer, { betas: [0.9, 0.99], lr: 0.01, type: 'adam' });
  assert.match(e.provenance['optimizer.type']!.origin.note ?? '', /replaced 'sgd'; dropped its options momentum/);
  assert.equal(e.provenance['optimizer.momentum'], undefined);
  // Only inherited options are pruned: a wrong option written next to the new type is reported.
  const typo = writeTree({ 'base.yaml': MINIMAL.replace('{type: sgd, lr: 0.01}', '{type: sgd, lr: 0.01, momentum: 0.5}'), 'e.yaml': 'extends: base.yaml\noptimizer: {type: adam, momentum: 0.9}\n' });
  const errs = await errorsOf(() => load(typo, 'e.yaml'));
  assert.equal(errs.length, 1);
  assert.equal(errs[0]!.where?.key, 'optimizer.momentum');
  assert.equal(errs[0]!.where?.line, 2);
  // Deleting the stale option explicitly is fine too.
  assert.deepEqual((await load(dir, 'explicit.yaml')).config.optimizer, { betas: [0.9, 0.99], lr: 0.2, type: 'adam' });
});

test('deleting a key nothing sets, or appending to a non-list, is a located error', async () => {
  const dir = writeTree({ 'base.yaml': MINIMAL, 'e.yaml': 'extends: base.yaml\nmodel:\n  depht~:\nname+: [x]\n' });
  const errs = await errorsOf(() => load(dir, 'e.yaml'));
  assert.equal(errs.length, 2);
  assert.equal(errs[0]!.code, 'config.delete-missing');
  assert.equal(errs[0]!.where?.line, 3);
  assert.equal(errs[0]!.where?.key, 'model.depht');
  assert.match(errs[0]!.message, /cannot delete 'model\.depht': nothing inherited sets it/);
  assert.equal(errs[1]!.code, 'config.append-non-list');
  assert.equal(errs[1]!.where?.line, 4);
});

test('extends cycles name the files; a missing base is located at the extends entry', async () => {
  const dir = writeTree({ 'a.yaml': 'extends: b.yaml\n', 'b.yaml': 'extends: [c.yaml]\n', 'c.yaml': 'extends: a.yaml\n', 'm.yaml': 'name: x\nextends: [nope.yaml]\n' });
  const [cycle] = await errorsOf(() => load(dir, 'a.yaml'));
  assert.equal(cycle!.code, 'config.extends-cycle');
  assert.match(cycle!.message, /a\.yaml → .*b\.yaml → .*c\.yaml → .*a\.yaml/);
  assert.equal(cycle!.where?.file, path.join(dir, 'c.yaml'));
  const [missing] = await errorsOf(() => load(dir, 'm.yaml'));
  assert.equal(missing!.code, 'config.extends-not-found');
  assert.equal(missing!.where?.line, 2);
  assert.equal(missing!.where?.column, 11);
});

test('duplicate keys, custom tags and YAML syntax errors are located errors; YAML runs no code', async () => {
  const dir = writeTree({
    'dup.yaml': `${MINIMAL}seed: 1\nseed: 2\n`,
    'tag.yaml': `${MINIMAL}seed: !!js/function "function () { return 1 }"\nplugins: !env HOME\n`,
    'syntax.yaml': 'model: {type: toynet\n',
    'dotted.yaml': `${MINIMAL}model.depth: 50\n`,
  });
  const [dup] = await errorsOf(() => load(dir, 'dup.yaml'));
  assert.equal(dup!.code, 'config.duplicate-key');
  assert.equal(dup!.where?.line, 7);
  const tags = await errorsOf(() => load(dir, 'tag.yaml'));
  assert.deepEqual(tags.map((e) => [e.code, e.where?.line]), [['config.yaml-tag', 6], ['config.yaml-tag', 7]]);
  const [syntax] = await errorsOf(() => load(dir, 'syntax.yaml'));
  assert.equal(syntax!.code, 'config.yaml-syntax');
  const [dotted] = await errorsOf(() => load(dir, 'dotted.yaml'));
  assert.equal(dotted!.code, 'config.dotted-key');
  assert.equal(dotted!.where?.line, 6);
});

test('bad --set syntax is reported with the flag', async () => {
  const dir = writeTree({ 'e.yaml': MINIMAL });
  const [e] = await errorsOf(() => load(dir, 'e.yaml', ['model.depth']));
  assert.equal(e!.code, 'config.bad-set');
  assert.match(e!.message, /--set model\.depth/);
  const [f] = await errorsOf(() => load(dir, 'e.yaml', ['model.rates+=3']));
  assert.match(f!.message, /appends a list/);
});

test('the provenance index finds exactly the keys below a path (as isUnder does), through sets and deletes', async () => {
  const { ProvenanceMap } = await import('../../src/config/merge.js');
  const { isUnder } = await import('../../src/config/paths.js');
  // A small seeded generator: the same sequence of paths every run.
  let seed = 12345;
  const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
  const segs = ['a', 'b', 'ab', '0', '1', 'a.b'];
  const randomPath = () => Array.from({ length: 1 + rand(4) }, () => segs[rand(segs.length)]).join('.');
  const map = new ProvenanceMap();
  const plain = new Map<string, unknown>();
  const prov = { origin: { kind: 'file' as const }, overrode: [] };
  for (let step = 0; step < 3000; step++) {
    const p = randomPath();
    if (rand(3) === 0) {
      map.delete(p);
      plain.delete(p);
    } else {
      map.set(p, prov);
      plain.set(p, prov);
    }
    if (step % 10 === 0) {
      const q = randomPath();
      const expected = [...plain.keys()].filter((k) => k !== q && isUnder(k, q)).sort();
      assert.deepEqual(map.keysBelow(q).sort(), expected, `below '${q}'`);
    }
  }
  assert.equal(map.size, plain.size);
  // A copy keeps the index.
  const copy = new ProvenanceMap(map);
  assert.deepEqual(copy.keysBelow('a').sort(), map.keysBelow('a').sort());
});

test('replacing a long inherited list keeps exactly the new items’ provenance', async () => {
  const n = 2000;
  const dir = writeTree({
    'base.yaml': MINIMAL.replace('model: {type: toynet}', `model: {type: toynet, rates: [${Array.from({ length: n }, (_, i) => i).join(', ')}]}`),
    'e.yaml': 'extends: base.yaml\nmodel: {rates: [1, 2, 3]}\n',
  });
  const exp = await loadExperiment(path.join(dir, 'e.yaml'), { registry });
  assert.deepEqual((exp.config.model as { rates: number[] }).rates, [1, 2, 3]);
  const keys = Object.keys(exp.provenance).filter((k) => k.startsWith('model.rates.'));
  assert.deepEqual(keys.sort(), ['model.rates.0', 'model.rates.1', 'model.rates.2']);
  assert.equal(exp.provenance['model.rates.2']!.origin.file, path.join(dir, 'e.yaml'));
});
