// The editor schemas (schemas/, per-file schemas from `ablate schema --experiment`) as an editor
// applies them: the real npm yaml-language-server over LSP stdio opens each file, reads its
// `# yaml-language-server: $schema=…` modeline and publishes its diagnostics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { YamlLanguageServer, type Diagnostic } from '../support/yaml-ls.js';
import { writeTree } from '../support/tmp.js';
import { ablate, ensureBuilt, root } from '../support/cli.js';
import { experimentSchemaPath } from '../../src/cli/commands/schema.js';
import { loadExperiment } from '../../src/config/load.js';
import { errorsOf } from './helpers.js';

const MODELINE = /^# yaml-language-server: \$schema=(\S+)$/m;
const schemaDir = path.join(root, 'schemas');

function yamlFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...yamlFiles(full));
    else if (/\.ya?ml$/.test(e.name)) out.push(full);
  }
  return out.sort();
}

/** Every YAML file the project ships for users to copy, edit and run. */
const shipped = [...yamlFiles(path.join(root, 'experiments')), ...yamlFiles(path.join(root, 'examples'))];

const show = (file: string, ds: Diagnostic[]) => ds.map((d) => `${path.relative(root, file)}:${d.range.start.line + 1}:${d.range.start.character + 1}: ${d.message}`).join('\n');

let server: YamlLanguageServer;
before(async () => {
  ensureBuilt(); // the CLI test runs bin/ablate.js, and examples/plugins import the package (dist/)
  server = new YamlLanguageServer();
  await server.initialize(root);
});
after(async () => {
  await server.close();
});

test('every shipped experiment and fragment names a schema in its modeline and gets zero diagnostics from yaml-language-server', async () => {
  assert.ok(shipped.length >= 50, `found only ${shipped.length} files`);
  for (const file of shipped) assert.match(readFileSync(file, 'utf8'), MODELINE, `${path.relative(root, file)} has no modeline`);
  const results = await Promise.all(shipped.map(async (file) => ({ file, diagnostics: await server.diagnose(file) })));
  const bad = results.filter((r) => r.diagnostics.length > 0);
  assert.equal(bad.length, 0, `diagnostics in ${bad.length} of ${shipped.length} files:\n${bad.map((r) => show(r.file, r.diagnostics)).join('\n')}`);
});

/** Diagnostics for `body` under a modeline naming one of the committed schemas (in a temp folder). */
async function diagnoseText(body: string, schema: 'experiment' | 'fragment' = 'experiment'): Promise<string[]> {
  const dir = writeTree({ 'exp.yaml': `# yaml-language-server: $schema=${path.join(schemaDir, `${schema}.schema.json`)}\n${body}` }, 'editor');
  const ds = await server.diagnose(path.join(dir, 'exp.yaml'));
  return ds.map((d) => `${d.range.start.line}: ${d.message}`);
}

test('a file without extends is complete: the slots and each component type are required, mistakes are flagged', async () => {
  const missing = await diagnoseText('name: x\nmodel: {type: deeplabv2}\n');
  assert.deepEqual(missing.sort(), ['1: Missing property "dataset".', '1: Missing property "optimizer".', '1: Missing property "trainer".']);
  const wrong = await diagnoseText(
    ['name: x', 'model: {type: deeplabv2, depht: 50}', 'optimizer: {type: sgd, momentum: abc}', 'dataset: {type: mini-voc}', 'trainer: {iterations: 10}', 'scheduler: {type: cosine}', ''].join('\n'),
  );
  assert.ok(wrong.includes('2: Property depht is not allowed.'), wrong.join('\n'));
  assert.ok(wrong.includes('3: Incorrect type. Expected "number".'), wrong.join('\n'));
  assert.ok(wrong.includes('5: Missing property "type".'), wrong.join('\n'));
  assert.ok(wrong.some((m) => m.startsWith('6: Value must be') && m.includes('"poly"')), wrong.join('\n'));
});

test('a file that extends needs no slot and no type, but unknown keys and wrong types are still flagged', async () => {
  const ok = await diagnoseText('extends: base.yaml\nmodel: {depth: 50}\ntrainer:\n  iterations: 800\n');
  assert.deepEqual(ok, []);
  const wrong = await diagnoseText('extends: base.yaml\nmodel: {depht: 50}\noptimizer: {momentum: abc}\nbogus: 1\n');
  assert.deepEqual(wrong.sort(), ['2: Property depht is not allowed.', '3: Incorrect type. Expected "number".', '4: Property bogus is not allowed.']);
  const fragment = await diagnoseText('model: {depht: 50}\noptimizer: {type: sgd, momentum: abc}\n', 'fragment');
  assert.deepEqual(fragment.sort(), ['1: Property depht is not allowed.', '2: Incorrect type. Expected "number".']);
});

test('${…} references are accepted wherever a value is expected (integer, enum, boolean, a whole component), and only there', async () => {
  const refs = await diagnoseText(
    ['extends: base.yaml', 'seed: ${env:SEED,0}', 'runtime:', '  backend: ${env:BACKEND,auto}', 'scheduler:', '  type: poly', '  max_iterations: ${trainer.iterations}', 'discriminator_scheduler: ${scheduler}', 'progress: {bar: never}', ''].join('\n'),
  );
  assert.deepEqual(refs, []);
  // Not a reference: still wrong.
  const plain = await diagnoseText('extends: base.yaml\nseed: trainer.iterations\nscheduler:\n  type: poly\n  max_iterations: $trainer\n');
  assert.equal(plain.length, 2, plain.join('\n'));
  assert.ok(plain.every((m) => /Incorrect type\. Expected "integer"/.test(m)), plain.join('\n'));
});

test('completion still offers the real options: keys, plugin types, enum values, a plugin’s options, an untyped component’s', async () => {
  const dir = writeTree(
    {
      'complete.yaml': `# yaml-language-server: $schema=${path.join(schemaDir, 'experiment.schema.json')}\n\nscheduler:\n  type: \nruntime:\n  backend: \noptimizer:\n  type: sgd\n  \n`,
      'partial.yaml': `# yaml-language-server: $schema=${path.join(schemaDir, 'experiment.schema.json')}\nextends: base.yaml\noptimizer:\n  \n`,
    },
    'editor-completion',
  );
  const complete = path.join(dir, 'complete.yaml');
  const partialFile = path.join(dir, 'partial.yaml');
  await Promise.all([server.diagnose(complete), server.diagnose(partialFile)]);
  const labels = async (file: string, line: number, character: number) => (await server.complete(file, line, character)).map((i) => i.label);
  const top = await labels(complete, 1, 0);
  for (const key of ['extends', 'name', 'seed', 'model', 'dataset', 'trainer', 'sweep']) assert.ok(top.includes(key), `top-level completion lacks ${key}: ${top.join(', ')}`);
  assert.ok(!top.includes('interpolation') && !top.some((l) => l.startsWith('partial')), top.join(', '));
  assert.deepEqual((await labels(complete, 3, 8)).sort(), ['constant', 'poly', 'step', 'warmup']);
  assert.deepEqual((await labels(complete, 5, 11)).sort(), ['auto', 'cpu', 'tensorflow', 'tensorflow-gpu', 'wasm']);
  const sgd = await labels(complete, 8, 2);
  assert.ok(sgd.includes('momentum') && sgd.includes('nesterov') && !sgd.includes('betas'), sgd.join(', '));
  const untyped = await labels(partialFile, 3, 2);
  for (const o of ['type', 'momentum', 'betas']) assert.ok(untyped.includes(o), `untyped optimizer in a file that extends: ${untyped.join(', ')}`);
});

// That the committed per-file schema is current is checked in test/config/schema.test.ts (with the other schemas).
test('hover shows an option’s own description, for a literal value and for a ${…} reference alike', async () => {
  const dir = writeTree(
    {
      'hover.yaml': `# yaml-language-server: $schema=${path.join(schemaDir, 'experiment.schema.json')}\nextends: base.yaml\nscheduler:\n  type: poly\n  power: 0.9\n  max_iterations: \${trainer.iterations}\n`,
    },
    'editor-hover',
  );
  const file = path.join(dir, 'hover.yaml');
  assert.deepEqual(await server.diagnose(file), []);
  const literal = await server.hover(file, 4, 4);
  assert.match(literal, /^#### scheduler 'poly'\n\nExponent of the decay/);
  const reference = await server.hover(file, 5, 4);
  assert.match(reference, /^#### scheduler 'poly'\n\nIteration at which the rate reaches 0/);
});

test('the README plugin example: its modeline names its per-file schema (ablate schema --experiment), which is what makes it clean', async () => {
  const example = path.join(root, 'examples/cosine-schedule.yaml');
  const target = experimentSchemaPath(example);
  assert.equal(path.relative(root, target), path.join('examples', 'cosine-schedule.schema.json'));
  assert.equal(path.resolve(path.dirname(example), MODELINE.exec(readFileSync(example, 'utf8'))![1]!), target);
  // Against the built-ins' schema the user's `type: cosine` is unknown.
  const text = readFileSync(example, 'utf8').replace(MODELINE, `# yaml-language-server: $schema=${path.join(schemaDir, 'experiment.schema.json')}`);
  const dir = writeTree({ 'cosine-schedule.yaml': text }, 'editor-cosine');
  const generic = await server.diagnose(path.join(dir, 'cosine-schedule.yaml'), text);
  assert.ok(generic.some((d) => /Value must be/.test(d.message)), show(example, generic));
});

test('ablate schema --experiment writes the per-file schema next to the file with its bases\' plugins, says how to point the modeline at it, and --check finds it current', async () => {
  // The plugin comes from a base: a plain module (it needs nothing from ablate to declare its schema).
  const plugin = `export default { kind: 'scheduler', type: 'halving', description: 'Halves the rate every n iterations.', options: { type: 'object', properties: { n: { type: 'integer', minimum: 1, default: 1000 } }, additionalProperties: false }, create() { throw new Error('not built by a schema'); } };\n`;
  const dir = writeTree(
    {
      'exp.yaml': '# My experiment\nextends: bases/base.yaml\nscheduler: {type: halving, n: 500}\n',
      'bases/base.yaml': 'plugins: [../plugins/halving.mjs]\n',
      'plugins/halving.mjs': plugin,
    },
    'schema-experiment',
  );
  const w = ablate(['schema', '--experiment', path.join(dir, 'exp.yaml')], dir);
  assert.equal(w.code, 0, w.stderr);
  assert.match(w.stdout, /wrote .*exp\.schema\.json/);
  assert.match(w.stdout, /# yaml-language-server: \$schema=\.\/exp\.schema\.json/);
  const schema = JSON.parse(readFileSync(path.join(dir, 'exp.schema.json'), 'utf8')) as { $defs: Record<string, { description?: string }> };
  assert.match(schema.$defs['scheduler.halving']!.description!, /from \.\.\/plugins\/halving\.mjs/, "a base's plugins are included");
  assert.deepEqual(await server.diagnose(path.join(dir, 'exp.yaml'), readFileSync(path.join(dir, 'exp.yaml'), 'utf8').replace(/^/, '# yaml-language-server: $schema=./exp.schema.json\n')), []);
  const c = ablate(['schema', '--experiment', path.join(dir, 'exp.yaml'), '--check'], dir);
  assert.equal(c.code, 0, c.stderr);
});

test('the committed schemas are ajv-valid draft 2020-12 and accept every shipped file as the raw YAML an editor sees', () => {
  const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
  for (const file of shipped) {
    const text = readFileSync(file, 'utf8');
    const schemaFile = path.resolve(path.dirname(file), MODELINE.exec(text)![1]!);
    let validate = compiled.get(schemaFile);
    if (!validate) {
      validate = new Ajv2020({ allErrors: true, strict: false }).addFormat('path', true).compile(JSON.parse(readFileSync(schemaFile, 'utf8')) as object);
      compiled.set(schemaFile, validate);
    }
    assert.ok(validate(parse(text)), `${path.relative(root, file)}: ${JSON.stringify(validate.errors?.slice(0, 3))}`);
  }
});

test('ablate validate stays strict: references are resolved first, and a resolved value of the wrong type is an error', async () => {
  const dir = writeTree(
    {
      'exp.yaml': 'name: strict\nseed: ${name}\nmodel: {type: deeplabv2}\noptimizer: {type: sgd}\ndataset: {type: mini-voc}\ntrainer: {type: supervised}\n',
    },
    'editor-strict',
  );
  const errors = await errorsOf(() => loadExperiment(path.join(dir, 'exp.yaml')));
  assert.deepEqual(errors.map((e) => e.where?.key), ['seed']);
});
