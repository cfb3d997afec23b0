import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { composeExperimentSchema } from '../../src/config/schema.js';
import { schemaFiles } from '../../src/cli/commands/schema.js';
import { testRegistry } from './helpers.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

test('the committed schemas/ files match the registered plugins (run `npx ablate schema` when this fails)', async () => {
  const files = await schemaFiles();
  for (const [name, text] of Object.entries(files)) {
    let committed = '';
    try {
      committed = readFileSync(path.join(root, 'schemas', name), 'utf8');
    } catch {
      /* missing counts as stale */
    }
    assert.ok(committed === text, `schemas/${name} is stale: run \`npx ablate schema\` and commit it`);
  }
});

test('the committed per-file schemas (ablate schema --experiment) are current: re-run it after changing a plugin', async () => {
  const { experimentSchemaPath, experimentSchemaText } = await import('../../src/cli/commands/schema.js');
  let checked = 0;
  for (const dir of ['examples', 'experiments']) {
    const walk = (d: string): string[] => readdirSync(d, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(d, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(d, e.name)] : []));
    for (const file of walk(path.join(root, dir))) {
      const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(file, 'utf8'));
      if (!line || path.resolve(path.dirname(file), line[1]!) !== experimentSchemaPath(file)) continue;
      const hint = `run \`npx ablate schema --experiment ${path.relative(root, file)}\` and commit it`;
      assert.ok(readFileSync(experimentSchemaPath(file), 'utf8') === (await experimentSchemaText(file)), `${path.relative(root, experimentSchemaPath(file))} is stale: ${hint}`);
      checked++;
    }
  }
  assert.ok(checked >= 1, 'examples/cosine-schedule.yaml names its own schema');
});

test('each component slot is a type-discriminated union of its kind; nested component markers become references', () => {
  const schema = composeExperimentSchema(testRegistry()) as { properties: Record<string, Record<string, unknown>>; $defs: Record<string, Record<string, unknown>>; required: string[] };
  assert.equal(schema.properties.optimizer!.$ref, '#/$defs/component.optimizer');
  const union = schema.$defs['component.optimizer']!;
  assert.deepEqual(union.discriminator, { propertyName: 'type' });
  assert.deepEqual(union.oneOf, [{ $ref: '#/$defs/optimizer.adam' }, { $ref: '#/$defs/optimizer.sgd' }]);
  const sgd = schema.$defs['optimizer.sgd'] as { properties: Record<string, Record<string, unknown>>; additionalProperties: unknown };
  assert.equal(sgd.properties.type!.const, 'sgd');
  assert.equal(sgd.additionalProperties, false);
  const transforms = (schema.$defs['dataset.toyvoc'] as { properties: Record<string, { items: Record<string, unknown> }> }).properties.transforms!;
  assert.equal(transforms.items.$ref, '#/$defs/component.transform');
  assert.equal(transforms.items['x-ablate-component'], undefined);
  assert.deepEqual(schema.required, ['model', 'optimizer', 'dataset', 'trainer']);
  assert.equal(schema.$defs['component.launcher']!.not !== undefined, true, 'a kind with no plugins accepts nothing');
  const fragment = composeExperimentSchema(testRegistry(), { fragment: true }) as { required?: string[] };
  assert.equal(fragment.required, undefined);
  // Both compile with the options the validator uses.
  const ajv = new Ajv2020({ allErrors: true, useDefaults: true, discriminator: true, strict: false });
  ajv.compile(schema);
});

test('every experiment carries a yaml-language-server modeline pointing at the committed schema', () => {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(e.name)) files.push(full);
    }
  };
  walk(path.join(root, 'experiments'));
  for (const file of files) {
    const line = /^# yaml-language-server: \$schema=(\S+)$/m.exec(readFileSync(file, 'utf8'));
    const fragment = file.split(path.sep).includes('_base_');
    if (!line) {
      // Fragments may omit it; when present it must resolve.
      assert.ok(fragment, `${path.relative(root, file)} has no yaml-language-server $schema modeline`);
      continue;
    }
    const target = path.resolve(path.dirname(file), line[1]!);
    const expected = path.join(root, 'schemas', fragment ? 'fragment.schema.json' : 'experiment.schema.json');
    assert.ok(fragment ? target === expected || target === path.join(root, 'schemas/experiment.schema.json') : target === expected, `${path.relative(root, file)}: modeline points at ${line[1]}`);
  }
});

test('the schema-only registry (what validate uses, without importing plugin code) matches the real one', async () => {
  const { builtinRegistry, schemaRegistry } = await import('../../src/plugin/bootstrap.js');
  const real = (await builtinRegistry()).list();
  const schemas = (await schemaRegistry()).list();
  assert.deepEqual(
    schemas.map((r) => [r.plugin.kind, r.plugin.type, r.source, JSON.stringify(r.plugin.options)]),
    real.map((r) => [r.plugin.kind, r.plugin.type, r.source, JSON.stringify(r.plugin.options)]),
  );
  // The kinds and slots packs contribute are cached too (validation composes the schema from them).
  const [cachedRegistry, realRegistry] = [await schemaRegistry(), await builtinRegistry()];
  assert.deepEqual(cachedRegistry.kinds(), realRegistry.kinds());
  assert.deepEqual([...cachedRegistry.slots()], [...realRegistry.slots()]);
  assert.ok(realRegistry.kinds().includes('discriminator') && realRegistry.slot('discriminator_optimizer')?.target === 'discriminator');
});
