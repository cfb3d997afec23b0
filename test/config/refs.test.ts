import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment } from '../../src/config/index.js';
import { testRegistry, MINIMAL, errorsOf } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();

const body = MINIMAL.replace('trainer: {type: supervised}\n', '');

test('a whole-value reference keeps its type; inside a string it is formatted in', async () => {
  const dir = writeTree({
    'e.yaml': `${body}trainer: {type: supervised, iterations: 40, batch_size: '\${trainer.iterations}'}\nmodel: {type: toynet, rates: '\${extra_rates}'}\n`.replace('model: {type: toynet}\n', ''),
  });
  // An unknown top-level key would fail validation, so the list comes from a --set instead.
  const e = await loadExperiment(path.join(dir, 'e.yaml'), { registry, set: ['name=run-${trainer.iterations}-${model.depth}', 'model.rates=[1]'] });
  const c = e.config as Record<string, Record<string, unknown>>;
  assert.equal(c.trainer!.batch_size, 40);
  assert.equal(c.name, 'run-40-101', 'interpolation sees schema defaults (model.depth)');
  assert.equal(typeof c.name, 'string');
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.equal(errs[0]!.code, 'config.reference-missing');
  assert.equal(errs[0]!.where?.key, 'model.rates');
});

test('references to lists and maps copy them; $${ is a literal', async () => {
  const dir = writeTree({ 'e.yaml': `${MINIMAL.replace('model: {type: toynet}', "model: {type: toynet, rates: [1, 2]}")}losses: {seg: {type: ce2d, ignore_label: 3}, aux: '\${losses.seg}'}\n` });
  const e = await loadExperiment(path.join(dir, 'e.yaml'), { registry, set: ['name=cost $${x}'] });
  const losses = e.config.losses as Record<string, Record<string, unknown>>;
  assert.deepEqual(losses.aux, { type: 'ce2d', ignore_label: 3 });
  assert.equal(e.config.name, 'cost ${x}');
});

test('${env:NAME} and ${env:NAME,default}: typed when whole, missing without default is an error', async () => {
  const dir = writeTree({ 'e.yaml': `${body}trainer: {type: supervised, iterations: '\${env:ITERS}', batch_size: '\${env:NOPE_BATCH,3}'}\nseed: '\${env:SEED}'\n` });
  const e = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env: { ITERS: '12', SEED: '4' } });
  const t = e.config.trainer as Record<string, unknown>;
  assert.equal(t.iterations, 12);
  assert.equal(t.batch_size, 3);
  assert.equal(e.provenance['trainer.iterations']!.origin.kind, 'env');
  assert.equal(e.provenance['trainer.iterations']!.origin.env, 'ITERS');
  assert.equal(e.provenance['trainer.iterations']!.origin.line, 5, 'env origin keeps where the reference is written');
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry, env: { SEED: '1' } }));
  assert.equal(errs.length, 1);
  assert.equal(errs[0]!.code, 'config.env-missing');
  assert.match(errs[0]!.message, /ITERS is not set/);
  assert.equal(errs[0]!.where?.line, 5);
});

test('a reference cycle is an error that names the cycle', async () => {
  const dir = writeTree({ 'e.yaml': `${body}trainer: {type: supervised, iterations: '\${trainer.batch_size}', batch_size: '\${seed}'}\nseed: '\${trainer.iterations}'\n` });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.equal(errs.length, 1);
  assert.equal(errs[0]!.code, 'config.reference-cycle');
  assert.match(errs[0]!.message, /reference cycle: (\S+) → (\S+) → (\S+) → \1/);
  for (const k of ['trainer.iterations', 'trainer.batch_size', 'seed']) assert.ok(errs[0]!.message.includes(k), k);
});

test('a map or list formatted into a longer string is an error at the string, not JSON text', async () => {
  const dir = writeTree({ 'e.yaml': `${body.replace('name: toy', 'name: "exp-${model}"')}trainer: {type: supervised}\ntags: "r-\${model.rates}"\n` });
  const errs = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  const refErrs = errs.filter((e) => e.code === 'config.reference-not-scalar');
  assert.deepEqual(
    refErrs.map((e) => [e.where?.key, e.where?.line]),
    [
      ['name', 1],
      ['tags', 6],
    ],
  );
  assert.match(refErrs[0]!.message, /'name' formats \$\{model\} into a string, but model is a map/);
  assert.match(refErrs[1]!.message, /model\.rates is a list/);
  // A whole-value reference to the same map still copies it.
  const ok = writeTree({ 'e.yaml': `${body}trainer: {type: supervised}\nname: "exp-\${model.type}"\n`.replace('name: toy\n', '') });
  assert.equal((await loadExperiment(path.join(ok, 'e.yaml'), { registry })).config.name, 'exp-toynet');
});
