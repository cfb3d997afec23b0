// Bad experiment files from issue 17's corpus whose errors span phases (references, plugins, schema
// validation): each is reported where the mistake is, and a file's mistakes are reported together.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment } from '../../src/config/index.js';
import { testRegistry, MINIMAL, errorsOf } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();

test('an unknown key, an unknown plugin type and a missing reference are reported together', async () => {
  const dir = writeTree({ 'three.yaml': `${MINIMAL.replace('model: {type: toynet}', 'model: {type: nosuchnet}').replace('trainer: {type: supervised}', 'trainer: {type: supervised, iterations: "${nowhere.at.all}"}')}bogus_key: 1\n` });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'three.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line]),
    [
      ['plugin.unknown-type', 'model.type', 2],
      ['config.reference-missing', 'trainer.iterations', 5],
      ['config.unknown-key', 'bogus_key', 6],
    ],
  );
});

test('merge-phase errors (duplicate key, forbidden tag, bad delete, bad --set) are reported with the reference and schema errors', async () => {
  const file = `${MINIMAL.replace('lr: 0.01', 'lr: !!js/function "f", momentum: "${nowhere}"')}seed: 1\nseed: 2\nlosses~:\nbogus_key: 1\n`;
  const dir = writeTree({ 'e.yaml': file });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry, set: ['trainer.iterations+=3', 'trainer.batch_size=0'] }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line]),
    [
      // The tag's node is left out: no second error saying the null it became is not a number.
      ['config.yaml-tag', 'optimizer.lr', 3],
      ['config.reference-missing', 'optimizer.momentum', 3],
      ['config.duplicate-key', 'seed', 7],
      ['config.delete-missing', 'losses', 8],
      ['config.unknown-key', 'bogus_key', 9],
      ['config.bad-set', undefined, undefined],
      ['config.out-of-range', 'trainer.batch_size', undefined],
    ],
  );
});

test('a missing base is reported with the file\'s own errors, without the missing keys and references it may have set', async () => {
  const dir = writeTree({ 'e.yaml': 'extends: [nope.yaml]\nname: x\nmodel: {type: toynet, depht: 50}\noptimizer: {type: sgd, lr: "${base.lr}"}\ntrainer: {type: supervisd}\n' });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line]),
    [
      ['config.extends-not-found', 'extends', 1],
      ['config.unknown-key', 'model.depht', 3],
      ['plugin.unknown-type', 'trainer.type', 5],
    ],
  );
});

test('a file that is not YAML data stops at its syntax errors and bad flags (nothing else can be checked)', async () => {
  const dir = writeTree({ 'e.yaml': 'model: {type: toynet\nbogus: [\n' });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry, set: ['trainer.iterations+=3'] }));
  const codes = [...new Set(errs.map((e) => e.code))];
  assert.deepEqual(codes, ['config.yaml-syntax', 'config.bad-set'], 'no missing-key errors for the keys the broken text may hold');
});

test('a broken sweep block is reported with the base file\'s errors', async () => {
  const { checkFile } = await import('../../src/config/index.js');
  const dir = writeTree({ 'base.yaml': `${MINIMAL}bogus_key: 1\nsweep:\n  grid: {seed: [1, 2]}\n  exclude: 3\n`, '_base_/frag.yaml': 'model: {type: toynet, depht: 1}\nsweep:\n  grid: {seed: [1, 2]}\n  exclude: 3\n' });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'base.yaml'), { registry }));
  assert.deepEqual(errs.map((e) => [e.code, e.where?.line]), [['config.unknown-key', 6], ['sweep.invalid', 9]]);
  const frag = await errorsOf(() => checkFile(path.join(dir, '_base_/frag.yaml'), { registry }));
  assert.deepEqual(frag.map((e) => [e.code, e.where?.line]), [['config.unknown-key', 1], ['sweep.invalid', 4]]);
});

test('a list where a component map belongs is reported at that key, not as a missing reference elsewhere', async () => {
  const dir = writeTree({
    '_base_/disc.yaml': 'discriminator: {type: fcdisc, ndf: "${model.ndf_hint}"}\nname: "run-${model.depth}"\n',
    'e.yaml': `extends: _base_/disc.yaml\n${MINIMAL.replace('name: toy\n', '').replace('model: {type: toynet}', 'model: [toynet, 18]')}`,
  });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.file, e.where?.key]),
    [['config.wrong-type', path.join(dir, 'e.yaml'), 'model']],
  );
  assert.match(errs[0]!.message, /'model': expected object, found list/);
});

test('.inf and .nan are rejected where the schema says number or integer', async () => {
  const dir = writeTree({ 'e.yaml': `${MINIMAL.replace('lr: 0.01', 'lr: .nan, momentum: .inf')}` });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key]),
    [
      ['config.wrong-type', 'optimizer.lr'],
      ['config.wrong-type', 'optimizer.momentum'],
    ],
  );
  assert.match(errs[0]!.message, /found \.nan \(not a number\)/);
  assert.match(errs[1]!.message, /found \.inf \(not a finite number\)/);
  const negative = writeTree({ 'e.yaml': MINIMAL.replace('trainer: {type: supervised}', 'trainer: {type: supervised, iterations: -.inf}') });
  const [e] = await errorsOf(() => loadExperiment(path.join(negative, 'e.yaml'), { registry }));
  assert.match(e!.message, /expected integer, found -\.inf/);
});

test('a plugin whose type name is taken is reported at its plugins: entry', async () => {
  const plugin = (type: string) =>
    `export default { kind: 'metric', type: '${type}', description: 'Test metric.', options: { type: 'object', properties: {} }, create: () => ({}) };\n`;
  const dir = writeTree({
    'ok.mjs': plugin('mine'),
    'taken.mjs': plugin('miou'),
    'e.yaml': `${MINIMAL}plugins:\n  - ./ok.mjs\n  - ./taken.mjs\n`,
  });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.key, e.where?.line]),
    [['plugin.duplicate', 'plugins.1', 8]],
  );
  assert.match(errs[0]!.message, /metric plugin 'miou' from \.\/taken\.mjs clashes/);
});

test('__proto__ in --set, a sweep key or a file is a located error and reaches no prototype', async () => {
  const dir = writeTree({
    'e.yaml': MINIMAL,
    'sweep.yaml': `${MINIMAL}sweep:\n  variants:\n    a: {"__proto__.fuzz_polluted": 1}\n`,
    'file.yaml': `${MINIMAL}model:\n  __proto__: {fuzz_polluted: 1}\n`.replace('model: {type: toynet}\n', ''),
  });
  const sets = ['__proto__.fuzz_polluted=1', 'model.__proto__.fuzz_polluted=1', 'sweep.variants.a.__proto__.fuzz_polluted=1', '__proto__~'];
  for (const set of sets) {
    const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry, set: [set] }));
    assert.deepEqual(
      errs.map((e) => e.code),
      ['config.bad-key'],
      set,
    );
  }
  for (const file of ['sweep.yaml', 'file.yaml']) {
    const errs = await errorsOf(() => loadExperiment(path.join(dir, file), { registry }));
    assert.deepEqual(
      errs.map((e) => [e.code, e.where?.line]),
      // Without its __proto__ key file.yaml's model is an empty map: that is reported too.
      file === 'sweep.yaml' ? [['config.bad-key', 8]] : [['config.bad-key', 6], ['config.missing-type', 6]],
      file,
    );
  }
  assert.equal(({} as Record<string, unknown>).fuzz_polluted, undefined, 'Object.prototype untouched');
});
