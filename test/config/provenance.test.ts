import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment, describeOrigin } from '../../src/config/index.js';
import { testRegistry } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();

test('every resolved leaf knows its file:line, --set flag, env var or schema default, and what it overrode', async () => {
  const dir = writeTree({
    '_base_/opt.yaml': 'optimizer:\n  type: sgd\n  lr: 0.1\n',
    'e.yaml': [
      'extends: _base_/opt.yaml',
      'name: prov',
      'model: {type: toynet}',
      'optimizer:',
      '  lr: 0.2',
      'dataset: {type: toyvoc, root: data}',
      "trainer: {type: supervised, iterations: '${env:ITERS,9}'}",
      '',
    ].join('\n'),
  });
  const e = await loadExperiment(path.join(dir, 'e.yaml'), { registry, set: ['optimizer.lr=0.3'], env: {} });
  const lr = e.provenance['optimizer.lr']!;
  assert.equal(lr.origin.kind, 'set');
  assert.equal(lr.origin.flag, '--set optimizer.lr=0.3');
  assert.deepEqual(
    lr.overrode.map((o) => [path.relative(dir, o.file!), o.line, o.column]),
    [
      ['e.yaml', 5, 7],
      ['_base_/opt.yaml', 3, 7],
    ],
  );
  const type = e.provenance['optimizer.type']!.origin;
  assert.deepEqual([path.relative(dir, type.file!), type.line, type.column], ['_base_/opt.yaml', 2, 9]);
  assert.equal(e.provenance['optimizer.momentum']!.origin.kind, 'default');
  assert.match(describeOrigin(e.provenance['optimizer.momentum']!.origin), /schema default of 'sgd'/);
  assert.equal(e.provenance['scheduler.type']!.origin.kind, 'default', 'slot defaults are visible');
  assert.equal(e.provenance['trainer.iterations']!.origin.kind, 'env');
  assert.equal(e.config.trainer && (e.config.trainer as Record<string, unknown>).iterations, 9);
  // Every leaf of the resolved config has provenance.
  const leaves: string[] = [];
  const walk = (v: unknown, p: string) => {
    if (v && typeof v === 'object' && Object.keys(v).length > 0) for (const [k, x] of Object.entries(v)) walk(x, p ? `${p}.${k}` : k);
    else leaves.push(p);
  };
  walk(e.config, '');
  for (const leaf of leaves) assert.ok(e.provenance[leaf], `provenance for ${leaf}`);
});

test('a list replaced whole: each item is located where the new list writes it, nothing of the old list is left', async () => {
  const { MINIMAL } = await import('./helpers.js');
  const dir = writeTree({
    'base.yaml': MINIMAL.replace('model: {type: toynet}', 'model: {type: toynet, rates: [1, 2, 3]}'),
    'e.yaml': 'extends: base.yaml\nmodel:\n  rates: [6, 12]\n',
  });
  const e = await loadExperiment(path.join(dir, 'e.yaml'), { registry });
  assert.deepEqual((e.config.model as Record<string, unknown>).rates, [6, 12]);
  const at = (k: string) => e.provenance[k]?.origin;
  assert.deepEqual([at('model.rates.0')?.line, at('model.rates.0')?.column, at('model.rates.1')?.column], [3, 11, 14]);
  assert.equal(path.basename(at('model.rates.1')!.file!), 'e.yaml');
  assert.deepEqual(e.provenance['model.rates.0']!.overrode, [], 'a replaced list item overrides nothing');
  assert.equal(e.provenance['model.rates.2'], undefined, 'the old third item is gone');
  assert.equal(path.basename(e.provenance['model.rates']!.overrode[0]!.file!), 'base.yaml');
});
