import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment, checkFile } from '../../src/config/index.js';
import { ConfigError, codeFrame } from '../../src/config/errors.js';
import { testRegistry, MINIMAL, errorsOf } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();

test('three different mistakes give three located errors with key paths and suggestions', async () => {
  const dir = writeTree({
    'three.yaml': ['name: three', 'model: {type: toynet, depht: 50}', 'optimizer: {type: sgd, lr: fast}', 'dataset: {type: toyvoc, root: data}', 'trainer: {type: supervisd}', ''].join('\n'),
  });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'three.yaml'), { registry }));
  assert.deepEqual(
    errs.map((e) => [e.code, e.where?.line, e.where?.column, e.where?.key]),
    [
      ['config.unknown-key', 2, 23, 'model.depht'],
      ['config.wrong-type', 3, 28, 'optimizer.lr'],
      ['plugin.unknown-type', 5, 17, 'trainer.type'],
    ],
  );
  assert.match(errs[0]!.hint ?? '', /did you mean 'depth'\?/);
  assert.match(errs[1]!.message, /expected number, found 'fast'/);
  assert.match(errs[2]!.message, /unknown trainer type 'supervisd'/);
  assert.match(errs[2]!.hint ?? '', /did you mean 'supervised'\? .*registered trainer types: adversarial-semi, supervised/);
  for (const e of errs) assert.equal(e.exitCode, 2);
  const frame = codeFrame(errs[0]!.where!.file!, 2, 23)!;
  assert.match(frame, /> 2 \| model: \{type: toynet, depht: 50\}\n\s+\|\s{23}\^/);
});

test('errors name the extends file that set the bad value; missing slots list registered types', async () => {
  const dir = writeTree({
    '_base_/model.yaml': 'model:\n  type: toynet\n  upsample: bilinar\n',
    'e.yaml': 'extends: _base_/model.yaml\nname: e\noptimizer: {type: adm}\ntrainer: {type: supervised}\n',
  });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  const byCode = Object.fromEntries(errs.map((e) => [e.code, e]));
  const enumErr = byCode['config.invalid-value'] as ConfigError;
  assert.equal(enumErr.where?.file, path.join(dir, '_base_/model.yaml'));
  assert.equal(enumErr.where?.line, 3);
  assert.match(enumErr.hint ?? '', /did you mean 'bilinear'/);
  assert.match(enumErr.notes.join(' '), /set in .*_base_\/model\.yaml, inherited by .*e\.yaml through extends/);
  assert.match(byCode['plugin.unknown-type']!.hint ?? '', /did you mean 'adam'/);
  const missing = byCode['config.missing-key']!;
  assert.match(missing.message, /missing required key 'dataset'/);
  assert.match(missing.hint ?? '', /registered dataset types: toyvoc/i);
});

test("a plugin type of another kind says which kind it is", async () => {
  const dir = writeTree({ 'e.yaml': MINIMAL.replace('{type: sgd, lr: 0.01}', '{type: constant}') });
  const [e] = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.match(e!.hint ?? '', /'constant' is a scheduler plugin, not a optimizer/);
});

test('_base_ fragments are checked for syntax, unknown keys and types only', async () => {
  const dir = writeTree({
    '_base_/ok.yaml': "model: {depth: 50}\ntrainer: {type: supervised, iterations: '${somewhere.else}'}\n",
    '_base_/bad.yaml': 'model: {type: toynet, depth: 51}\noptimiser: {}\n',
  });
  assert.equal((await checkFile(path.join(dir, '_base_/ok.yaml'), { registry })).kind, 'fragment');
  const errs = await errorsOf(() => checkFile(path.join(dir, '_base_/bad.yaml'), { registry }));
  assert.deepEqual(errs.map((e) => [e.code, e.where?.line]), [['config.invalid-value', 1], ['config.unknown-key', 2]]);
  assert.match(errs[1]!.hint ?? '', /did you mean 'optimizer'/);
});
