import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment, flattenParams, diffConfigs } from '../../src/config/index.js';
import { testRegistry, MINIMAL } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();

test('the run identity ignores key order, inheritance and spelled-out defaults, and changes with any value', async () => {
  const dir = writeTree({
    'a.yaml': MINIMAL,
    'b.yaml': 'trainer: {type: supervised, iterations: 100}\ndataset: {root: data, type: toyvoc}\noptimizer: {lr: 0.01, type: sgd, momentum: 0.9}\nmodel: {type: toynet}\nname: toy\n',
    '_base_/half.yaml': 'model: {type: toynet}\noptimizer: {type: sgd, lr: 0.01}\n',
    'c.yaml': 'extends: _base_/half.yaml\nname: toy\ndataset: {type: toyvoc, root: data}\ntrainer: {type: supervised}\n',
  });
  const [a, b, c] = await Promise.all(['a.yaml', 'b.yaml', 'c.yaml'].map((f) => loadExperiment(path.join(dir, f), { registry })));
  assert.match(a!.hash, /^[0-9a-f]{64}$/);
  assert.equal(a!.hash, b!.hash);
  assert.equal(a!.hash, c!.hash);
  assert.equal(a!.canonicalYaml, b!.canonicalYaml);
  assert.deepEqual(Object.keys(a!.config), [...Object.keys(a!.config)].sort(), 'keys sorted');
  const d = await loadExperiment(path.join(dir, 'a.yaml'), { registry, set: ['optimizer.lr=0.010001'] });
  assert.notEqual(d.hash, a!.hash);
});

test('flattenParams gives the run params (one string per dotted leaf); diffConfigs lists changed, added and removed keys with both values', () => {
  const a = { model: { type: 'x', rates: [6, 12] }, dataset: { transforms: [{ type: 'crop', size: 3 }] }, seed: 0, name: 'n' };
  const b = { model: { type: 'x', rates: [6, 12, 18] }, dataset: { transforms: [{ type: 'crop', size: 3 }, { type: 'mirror' }] }, name: 'n' };
  assert.deepEqual(flattenParams(a), { 'dataset.transforms.0.size': '3', 'dataset.transforms.0.type': 'crop', 'model.rates': '[6,12]', 'model.type': 'x', name: 'n', seed: '0' });
  assert.deepEqual(flattenParams({ model: { depth: 101, bn: { frozen: true } }, optim: { lr: 2.5e-4 }, note: null, empty: {} }), {
    empty: '{}',
    'model.bn.frozen': 'true',
    'model.depth': '101',
    note: 'None',
    'optim.lr': '0.00025',
  });
  assert.deepEqual(diffConfigs(a, b), {
    changed: [{ key: 'model.rates', a: [6, 12], b: [6, 12, 18] }],
    added: [{ key: 'dataset.transforms.1.type', value: 'mirror' }],
    removed: [{ key: 'seed', value: 0 }],
  });
});
