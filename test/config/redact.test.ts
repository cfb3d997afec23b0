// What a run records of secrets (src/config/redact.ts): `${env:NAME,default}` is written back as
// written, default included; the command line loses the secret values and the `--set` values of
// keys the experiment reads from the environment.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { loadExperiment } from '../../src/config/index.js';
import { testRegistry, MINIMAL } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();
const SECRET = 'planted-Secret-5d2e';
const env = { DATA_ROOT: SECRET };

const FILE = `${MINIMAL.replace('root: data', 'root: "${env:DATA_ROOT,/srv/data}"').replace('name: toy', 'name: "toy-${env:DATA_ROOT, anon}"')}`;

test('${env:NAME,default} is recorded with its default, whole or inside a string', async () => {
  const dir = writeTree({ 'e.yaml': FILE });
  const e = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env });
  assert.equal((e.config.dataset as Record<string, unknown>).root, SECRET, 'the plugin gets the value');
  assert.equal((e.recorded.dataset as Record<string, unknown>).root, '${env:DATA_ROOT,/srv/data}');
  assert.equal(e.recorded.name, 'toy-${env:DATA_ROOT, anon}');
  assert.ok(!e.canonicalYaml.includes(SECRET));
  // Unset, the default is the value and is recorded as such (it is written in the file).
  const unset = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env: {} });
  assert.equal((unset.recorded.dataset as Record<string, unknown>).root, '/srv/data');
});

test('a --set value equal to the variable it replaces is recorded as the reference (same identity)', async () => {
  const dir = writeTree({ 'e.yaml': FILE });
  const plain = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env });
  // `--set dataset.root=$DATA_ROOT`, expanded by the shell.
  const expanded = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env, set: [`dataset.root=${SECRET}`, 'name=toy'] });
  assert.equal((expanded.recorded.dataset as Record<string, unknown>).root, '${env:DATA_ROOT,/srv/data}');
  assert.ok(!expanded.canonicalYaml.includes(SECRET));
  assert.notEqual(expanded.hash, plain.hash, 'the name differs');
  const same = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env, set: [`dataset.root=${SECRET}`] });
  assert.equal(same.hash, plain.hash);
});

test('the command line a run records masks secrets and --set values of keys read from the environment', async () => {
  const dir = writeTree({ 'e.yaml': FILE });
  const set = ['dataset.root=typed-in-Token-99', 'optimizer.lr=0.5'];
  const e = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env, set });
  const argv = ['ablate', 'run', 'e.yaml', '--set', set[0]!, '-s', set[1]!, `--set=dataset.root=typed-in-Token-99`, '-sdataset.root+=[x]', `--note=${SECRET}/x`];
  assert.deepEqual(e.redactArgs(argv), ['ablate', 'run', 'e.yaml', '--set', 'dataset.root=***', '-s', 'optimizer.lr=0.5', '--set=dataset.root=***', '-sdataset.root+=***', '--note=${env:DATA_ROOT, anon}/x']);
  // Nothing from the environment, nothing to mask.
  const clean = await loadExperiment(path.join(dir, 'e.yaml'), { registry, env: {}, set: ['optimizer.lr=0.5'] });
  assert.deepEqual(clean.redactArgs(['run', '--set', 'optimizer.lr=0.5']), ['run', '--set', 'optimizer.lr=0.5']);
});
