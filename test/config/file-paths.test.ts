// A relative path in a config file is relative to the file that wrote it; `--set` and environment
// values are relative to the current directory; absolute paths stay. The resolved config holds the
// same file seen from the experiment's folder (what plugins resolve against through ctx.baseDir).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadExperiment, expandSweep, checkFile, describeOrigin } from '../../src/config/index.js';
import { pathHint, visitPathOptions } from '../../src/config/file-paths.js';
import { ExperimentContainer } from '../../src/plugin/container.js';
import { PluginRegistry } from '../../src/plugin/registry.js';
import { AblateError } from '../../src/errors.js';
import { definePlugin, componentSchema, type PluginKind, type JsonSchema } from '../../src/index.js';
import { errorsOf } from './helpers.js';
import { writeTree } from '../support/tmp.js';
import { quietLog } from '../support/log.js';

function fake(kind: PluginKind, type: string, properties: Record<string, JsonSchema>, create: (o: Record<string, unknown>, ctx: { baseDir: string; slot: string }) => unknown = () => ({})) {
  return definePlugin({ kind, type, description: `Test ${kind} ${type}.`, options: { type: 'object', properties, additionalProperties: false }, create: create as never });
}

const file = (description: string): JsonSchema => ({ type: ['string', 'null'], format: 'path', default: null, description });

/** Plugins with path options in every place the loader looks: a slot, a map slot, a nested component. */
function pathRegistry(): PluginRegistry {
  const r = new PluginRegistry();
  r.registerAll(
    [
      fake('model', 'pathnet', { pretrained: file('Weights.'), width: { type: 'integer', default: 4, description: 'Width.' } }),
      fake('model', 'othernet', { pretrained: file('Weights.') }),
      fake('model', 'plainnet', { depth: { type: 'integer', default: 18, description: 'Depth.' } }),
      fake('optimizer', 'sgd', { lr: { type: 'number', default: 0.1, description: 'Learning rate.' } }),
      fake('trainer', 'supervised', { iterations: { type: 'integer', default: 10, description: 'Iterations.' } }),
      fake('loss', 'weighted', { class_weights: file('Class weights file.') }),
      fake('transform', 'lut', { table: file('Lookup table.'), name: { type: 'string', default: 'x', description: 'Not a path.' } }),
      fake(
        'dataset',
        'files',
        {
          root: { type: 'string', format: 'path', default: 'data/default', description: 'Root folder.' },
          partition_file: file('Partition.'),
          list: { type: 'string', default: 'train.txt', description: 'Relative to root: not a config path.' },
          transforms: { type: 'array', items: componentSchema('transform'), default: [], description: 'Transforms.' },
        },
        (o, ctx) => {
          const root = path.resolve(ctx.baseDir, String(o.root));
          if (!existsSync(root)) throw new AblateError('data.missing-file', `dataset folder ${root} does not exist`, { where: { key: `${ctx.slot}.root` } });
          return {};
        },
      ),
    ],
    'builtin',
  );
  return r;
}

const FRAGMENT = `dataset:
  type: files
  root: ../../data/voc
  transforms: [{type: lut, table: tables/lut.json, name: keep/me}]
model: {type: pathnet, pretrained: ../weights/w.safetensors}
losses: {seg: {type: weighted, class_weights: ./weights.json}}
`;
const BODY = `optimizer: {type: sgd}
trainer: {type: supervised}
`;

test('a fragment in another folder, extended from two different folders, names the same files', async () => {
  const dir = writeTree({
    'shared/_base_/data.yaml': FRAGMENT,
    'a/exp.yaml': `extends: ../shared/_base_/data.yaml\n${BODY}`,
    'b/c/exp.yaml': `extends: ../../shared/_base_/data.yaml\n${BODY}`,
  });
  const registry = pathRegistry();
  const a = await loadExperiment(path.join(dir, 'a/exp.yaml'), { registry });
  const b = await loadExperiment(path.join(dir, 'b/c/exp.yaml'), { registry });
  const abs = (e: typeof a, key: string) => {
    let v: unknown = e.config;
    for (const k of key.split('.')) v = (v as Record<string, unknown>)[k];
    return path.resolve(e.baseDir, String(v));
  };
  const expected: Record<string, string> = {
    'dataset.root': path.join(dir, 'data/voc'),
    'dataset.transforms.0.table': path.join(dir, 'shared/_base_/tables/lut.json'),
    'model.pretrained': path.join(dir, 'shared/weights/w.safetensors'),
    'losses.seg.class_weights': path.join(dir, 'shared/_base_/weights.json'),
  };
  for (const [key, want] of Object.entries(expected)) {
    assert.equal(abs(a, key), want, `${key} from a/`);
    assert.equal(abs(b, key), want, `${key} from b/c/`);
  }
  // The canonical text is relative to each experiment's folder, with POSIX separators.
  assert.equal((a.config.dataset as Record<string, unknown>).root, '../data/voc');
  assert.equal((b.config.dataset as Record<string, unknown>).root, '../../data/voc');
  // Strings that are not marked as paths are left alone.
  const lut = ((a.config.dataset as Record<string, unknown>).transforms as Record<string, unknown>[])[0]!;
  assert.equal(lut.name, 'keep/me');
  assert.equal((a.config.dataset as Record<string, unknown>).list, 'train.txt');
  // A schema default is relative to the experiment, as before.
  const c = await loadExperiment(path.join(writeTree({ 'x/e.yaml': `dataset: {type: files}\nmodel: {type: plainnet}\n${BODY}` }), 'x/e.yaml'), { registry });
  assert.equal((c.config.dataset as Record<string, unknown>).root, 'data/default');
});

test('paths written in the experiment file keep their exact text (and so its hash)', async () => {
  const dir = writeTree({
    'exp.yaml': `dataset: {type: files, root: ./data//voc/, partition_file: ../p.json}\nmodel: {type: pathnet, pretrained: w.st}\n${BODY}`,
    'same.yaml': `dataset: {type: files, root: ./data//voc/, partition_file: ../p.json}\nmodel: {type: pathnet, pretrained: w.st}\n${BODY}`,
  });
  const e = await loadExperiment(path.join(dir, 'exp.yaml'), { registry: pathRegistry() });
  assert.deepEqual([(e.config.dataset as Record<string, unknown>).root, (e.config.dataset as Record<string, unknown>).partition_file], ['./data//voc/', '../p.json']);
  assert.equal((await loadExperiment(path.join(dir, 'same.yaml'), { registry: pathRegistry() })).hash, e.hash);
});

test('a --set path is relative to the current directory; absolute paths, URLs and env values that are absolute stay', async () => {
  const dir = writeTree({ 'exps/deep/exp.yaml': `extends: ../../frag/_base_/d.yaml\n${BODY}`, 'frag/_base_/d.yaml': FRAGMENT });
  const registry = pathRegistry();
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    const e = await loadExperiment('exps/deep/exp.yaml', { registry, set: ['dataset.root=data/from-cwd', 'model.pretrained=/abs/w.st', 'losses.seg.class_weights=s3://bucket/w.json'] });
    const d = e.config.dataset as Record<string, unknown>;
    assert.equal(path.resolve(e.baseDir, String(d.root)), path.join(dir, 'data/from-cwd'));
    assert.equal(d.root, '../../data/from-cwd');
    assert.equal((e.config.model as Record<string, unknown>).pretrained, '/abs/w.st');
    assert.equal(((e.config.losses as Record<string, Record<string, unknown>>).seg!).class_weights, 's3://bucket/w.json');
    assert.match(describeOrigin(e.provenance['dataset.root']!.origin), /--set dataset\.root=data\/from-cwd \(written "data\/from-cwd", relative to the current directory; rebased/);
  } finally {
    process.chdir(cwd);
  }
});

test('${env:...}: an absolute value stays, a relative one is relative to the current directory, the default to the file', async () => {
  const dir = writeTree({
    'frag/_base_/d.yaml': 'dataset: {type: files, root: "${env:PATHS_TEST_ROOT,../data/default-root}"}\nmodel: {type: plainnet}\n',
    'exps/exp.yaml': `extends: ../frag/_base_/d.yaml\n${BODY}`,
  });
  const registry = pathRegistry();
  const root = async (env: NodeJS.ProcessEnv) => {
    const e = await loadExperiment(path.join(dir, 'exps/exp.yaml'), { registry, env });
    return { text: (e.config.dataset as Record<string, unknown>).root, abs: path.resolve(e.baseDir, String((e.config.dataset as Record<string, unknown>).root)) };
  };
  assert.deepEqual(await root({}), { text: '../frag/data/default-root', abs: path.join(dir, 'frag/data/default-root') });
  assert.deepEqual(await root({ PATHS_TEST_ROOT: '/mnt/voc' }), { text: '/mnt/voc', abs: '/mnt/voc' });
  assert.equal((await root({ PATHS_TEST_ROOT: 'rel/voc' })).abs, path.resolve(process.cwd(), 'rel/voc'));
});

test('a saved resolved config, reloaded with its baseDir (resume, sweep cell file), keeps its paths and hash', async () => {
  const dir = writeTree({ 'shared/_base_/data.yaml': FRAGMENT, 'a/exp.yaml': `extends: ../shared/_base_/data.yaml\n${BODY}` });
  const registry = pathRegistry();
  const e = await loadExperiment(path.join(dir, 'a/exp.yaml'), { registry });
  const saved = path.join(dir, 'runs/x/run-1/config.yaml');
  mkdirSync(path.dirname(saved), { recursive: true });
  writeFileSync(saved, e.canonicalYaml);
  const again = await loadExperiment(saved, { registry, baseDir: e.baseDir });
  assert.deepEqual(again.config, e.config);
  assert.equal(again.hash, e.hash);
  assert.equal(again.baseDir, e.baseDir);
});

test('sweep cells: a variant that extends a file elsewhere gets its paths relative to that file; cells equal the row files', async () => {
  const dir = writeTree({
    'shared/_base_/data.yaml': FRAGMENT,
    'methods/_base_/pre.yaml': 'model: {pretrained: ../../weights/other.st}\n',
    'exps/row.yaml': `extends: [../shared/_base_/data.yaml, ../methods/_base_/pre.yaml]\n${BODY}`,
    'exps/table.yaml': `extends: ../shared/_base_/data.yaml\n${BODY}sweep:\n  variants:\n    plain: {}\n    pre: {extends: ../methods/_base_/pre.yaml}\n`,
  });
  const registry = pathRegistry();
  const cells = await expandSweep(path.join(dir, 'exps/table.yaml'), { registry });
  const pre = cells.find((c) => c.name === 'variant=pre')!;
  const model = pre.experiment.config.model as Record<string, unknown>;
  assert.equal(path.resolve(pre.experiment.baseDir, String(model.pretrained)), path.join(dir, 'weights/other.st'));
  assert.equal(pre.experiment.hash, (await loadExperiment(path.join(dir, 'exps/row.yaml'), { registry })).hash);
});

test('a type switch that drops a path option does not break; one the new plugin shares is kept and rebased', async () => {
  const dir = writeTree({
    'shared/_base_/m.yaml': 'model: {type: pathnet, pretrained: ../w.st, width: 8}\ndataset: {type: files, root: d}\n',
    'x/drop.yaml': `extends: ../shared/_base_/m.yaml\nmodel: {type: plainnet}\n${BODY}`,
    'x/keep.yaml': `extends: ../shared/_base_/m.yaml\nmodel: {type: othernet}\n${BODY}`,
  });
  const registry = pathRegistry();
  const drop = await loadExperiment(path.join(dir, 'x/drop.yaml'), { registry });
  assert.deepEqual(drop.config.model, { type: 'plainnet', depth: 18 });
  assert.equal(drop.paths['model.pretrained'], undefined);
  const keep = await loadExperiment(path.join(dir, 'x/keep.yaml'), { registry });
  assert.equal(path.resolve(keep.baseDir, String((keep.config.model as Record<string, unknown>).pretrained)), path.join(dir, 'shared/w.st'));
});

test('a value that is exactly one reference is relative to where the referenced value was written', async () => {
  const dir = writeTree({
    'shared/_base_/m.yaml': 'model: {type: pathnet, pretrained: ../parts.json}\n',
    'x/exp.yaml': `extends: ../shared/_base_/m.yaml\ndataset: {type: files, root: data, partition_file: "\${model.pretrained}"}\n${BODY}`,
  });
  const e = await loadExperiment(path.join(dir, 'x/exp.yaml'), { registry: pathRegistry() });
  const d = e.config.dataset as Record<string, unknown>;
  assert.equal(path.resolve(e.baseDir, String(d.partition_file)), path.join(dir, 'shared/parts.json'));
  assert.equal(d.partition_file, (e.config.model as Record<string, unknown>).pretrained);
});

test('explain shows the text as written, the file that wrote it and that it was rebased', async () => {
  const dir = writeTree({ 'shared/_base_/data.yaml': FRAGMENT, 'a/exp.yaml': `extends: ../shared/_base_/data.yaml\n${BODY}` });
  const e = await loadExperiment(path.join(dir, 'a/exp.yaml'), { registry: pathRegistry() });
  const o = e.provenance['dataset.root']!.origin;
  assert.equal(o.file, path.join(dir, 'shared/_base_/data.yaml'));
  assert.equal(o.line, 3);
  const text = describeOrigin(o);
  assert.match(text, /shared\/_base_\/data\.yaml:3:\d+ \(written "\.\.\/\.\.\/data\/voc", relative to that file; rebased onto the experiment's folder\)/);
  // A fragment checked on its own is its own top-level file: nothing to rebase.
  assert.deepEqual(await checkFile(path.join(dir, 'shared/_base_/data.yaml'), { registry: pathRegistry() }), { file: path.join(dir, 'shared/_base_/data.yaml'), kind: 'fragment', cells: 0 });
});

test('errors: a wrong value names the key and the fragment; a missing file at build time names both in its hint', async () => {
  const bad = writeTree({ 'shared/_base_/d.yaml': 'dataset: {type: files, root: 5}\n', 'a/exp.yaml': `extends: ../shared/_base_/d.yaml\nmodel: {type: plainnet}\n${BODY}` });
  const errs = await errorsOf(() => loadExperiment(path.join(bad, 'a/exp.yaml'), { registry: pathRegistry() }));
  assert.equal(errs[0]!.where?.key, 'dataset.root');
  assert.equal(errs[0]!.where?.file, path.join(bad, 'shared/_base_/d.yaml'));

  const dir = writeTree({ 'shared/_base_/data.yaml': FRAGMENT, 'a/exp.yaml': `extends: ../shared/_base_/data.yaml\n${BODY}` });
  const registry = pathRegistry();
  const e = await loadExperiment(path.join(dir, 'a/exp.yaml'), { registry });
  const hint = pathHint(e.paths, 'dataset.root', 'data.missing-file');
  assert.match(hint ?? '', /'dataset\.root' was written "\.\.\/\.\.\/data\/voc" in .*shared\/_base_\/data\.yaml:3:\d+, relative to .*shared\/_base_/);
  const container = new ExperimentContainer({ registry, config: e.config, baseDir: e.baseDir, log: quietLog, explainKey: (key, code) => pathHint(e.paths, key, code) });
  await assert.rejects(
    () => container.get('dataset', 'dataset'),
    (err: AblateError) => {
      assert.equal(err.code, 'data.missing-file');
      assert.equal(err.where?.key, 'dataset.root');
      assert.match(err.message, new RegExp(`${path.join(dir, 'data/voc').replace(/[/.]/g, '\\$&')} does not exist`));
      assert.match(err.hint ?? '', /shared\/_base_\/data\.yaml:3/);
      return true;
    },
  );
});

test('visitPathOptions finds marked options in slots, map slots and nested components only', async () => {
  const dir = writeTree({ 'shared/_base_/data.yaml': FRAGMENT, 'a/exp.yaml': `extends: ../shared/_base_/data.yaml\n${BODY}` });
  const registry = pathRegistry();
  const e = await loadExperiment(path.join(dir, 'a/exp.yaml'), { registry });
  const keys: string[] = [];
  visitPathOptions(e.config, registry, (k) => keys.push(k));
  assert.deepEqual(keys.sort(), ['dataset.root', 'dataset.transforms.0.table', 'losses.seg.class_weights', 'model.pretrained']);
});
