import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ablate, ensureBuilt, root } from '../support/cli.js';
import { writeTree } from '../support/tmp.js';

before(() => ensureBuilt());

// Real built-in plugins: these files are what a user would write.
const A = `name: cli-a
model: {type: deeplabv2, depth: 18}
optimizer: {type: sgd}
dataset: {type: mini-voc}
losses: {seg: {type: ce2d}}
trainer: {type: supervised, iterations: 10, batch_size: 2}
`;
const B = `extends: a.yaml
name: cli-b
model: {depth: 50}
optimizer: {nesterov: true}
losses:
  seg~:
trainer: {iterations: 20}
`;
const THREE = `name: three
model: {type: deeplabv2, depht: 50}
optimizer: {type: sgd, momentum: fast}
dataset: {type: mini-voc}
trainer: {type: supervisd}
`;
const SWEEP = `${A}sweep:
  grid: {seed: [1, 2], model.depth: [18, 34]}
  variants: {plain: {}, nesterov: {optimizer.nesterov: true}}
  exclude: [{depth: 34, variant: nesterov}]
`;

test('--version prints the package version', () => {
  const r = ablate(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.trim(), (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string }).version);
});

test('a compiled CLI older than the sources warns (in a checkout), an up-to-date one does not', async () => {
  const { statSync, utimesSync } = await import('node:fs');
  const compiled = path.join(root, 'dist', 'src', 'cli', 'main.js');
  assert.doesNotMatch(ablate(['--version']).stderr, /changed since the CLI was compiled/);
  const { atime, mtime } = statSync(compiled);
  utimesSync(compiled, new Date(1000), new Date(1000));
  try {
    const r = ablate(['--version']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: src\/ or plugins\/ changed since the CLI was compiled; run `npm run build`/);
  } finally {
    utimesSync(compiled, atime, mtime);
  }
});

test('a file with three different mistakes prints three located errors and exits 2, without a stack', () => {
  const dir = writeTree({ 'three.yaml': THREE });
  const r = ablate(['validate', 'three.yaml'], dir);
  assert.equal(r.code, 2, r.stderr);
  const heads = r.stderr.split('\n').filter((l) => / error\[/.test(l));
  assert.equal(heads.length, 3, r.stderr);
  const col = (line: number, word: string) => THREE.split('\n')[line - 1]!.indexOf(word) + 1;
  assert.ok(heads[0]!.startsWith(`three.yaml:2:${col(2, 'depht')}: `), heads[0]);
  assert.ok(heads[1]!.startsWith(`three.yaml:3:${col(3, 'fast')}: `), heads[1]);
  assert.match(heads[0]!, /^three\.yaml:2:\d+: error\[config\.unknown-key\]: unknown key 'depht' in 'model'/);
  assert.match(heads[1]!, /^three\.yaml:3:\d+: error\[config\.wrong-type\]: 'optimizer\.momentum': expected number, found 'fast'/);
  assert.match(heads[2]!, /^three\.yaml:5:17: error\[plugin\.unknown-type\]: unknown trainer type 'supervisd'/);
  assert.match(r.stderr, /hint: did you mean 'depth'\?/);
  assert.match(r.stderr, /hint: did you mean 'supervised'\? registered trainer types: .*supervised/);
  assert.match(r.stderr, /> 2 \| model: \{type: deeplabv2, depht: 50\}/, 'code frame');
  assert.match(r.stderr, /key: optimizer\.momentum/);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, 'no stack trace for a user mistake');
  assert.match(r.stdout, /FAIL three\.yaml/);
});

test('validate accepts the repository experiments folder', () => {
  const r = ablate(['validate', 'experiments']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.match(r.stdout, /(\d+)\/\1 file\(s\) valid/);
});

test('golden: ablate diff of two experiments is a semantic diff of the resolved configs', () => {
  const dir = writeTree({ 'a.yaml': A, 'b.yaml': B });
  const r = ablate(['diff', 'a.yaml', 'b.yaml'], dir);
  assert.equal(r.code, 0, r.stderr);
  const golden = [
    '--- a.yaml  <hash>',
    '+++ b.yaml  <hash>',
    '~ model.depth: 18 -> 50',
    '~ name: "cli-a" -> "cli-b"',
    '~ optimizer.nesterov: false -> true',
    '~ trainer.iterations: 10 -> 20',
    '+ losses: {}',
    '- losses.seg.ignore_index: 255',
    '- losses.seg.type: "ce2d"',
    '4 changed, 1 added, 2 removed',
    '',
  ].join('\n');
  assert.equal(r.stdout.replace(/\b[0-9a-f]{12}\b/g, '<hash>'), golden);
  const json = JSON.parse(ablate(['diff', 'a.yaml', 'b.yaml', '--json'], dir).stdout) as { changed: { key: string; a: unknown; b: unknown }[] };
  assert.deepEqual(json.changed[0], { key: 'model.depth', a: 18, b: 50 });
});

test("README's `ablate diff` examples are exactly what the command prints", () => {
  const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
  const examples = [...readme.matchAll(/```console\n\$ npx ablate (diff [^\n]+)\n([\s\S]*?)```/g)];
  assert.ok(examples.length >= 1, 'README shows an ablate diff');
  for (const [, command, shown] of examples) {
    const r = ablate(command!.split(/\s+/), root);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, shown, `README's output of \`ablate ${command}\``);
  }
});

test('diff: a path option naming the same file from two folders is not a change', () => {
  const dir = writeTree({
    'shared/model.yaml': 'model: {type: deeplabv2, pretrained: w.safetensors}\n',
    'x/a.yaml': `extends: ../shared/model.yaml\n${A}`,
    'y/z/b.yaml': `extends: ../../shared/model.yaml\n${A.replace('depth: 18', 'depth: 34')}`,
  });
  const r = ablate(['diff', 'x/a.yaml', 'y/z/b.yaml'], dir);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines.slice(2), [
    '~ model.depth: 18 -> 34',
    '= model.pretrained: "../shared/w.safetensors" and "../../shared/w.safetensors" name the same file (shared/w.safetensors)',
    '1 changed, 0 added, 0 removed, 1 path(s) written differently for the same file',
  ]);
});

test('print: canonical YAML, --provenance comments, --json with the run identity', () => {
  const dir = writeTree({ 'a.yaml': A, 'b.yaml': B });
  const plain = ablate(['print', 'b.yaml', '--set', 'seed=5'], dir);
  assert.equal(plain.code, 0, plain.stderr);
  assert.match(plain.stdout, /^# b\.yaml {2}sha256:[0-9a-f]{64}\n/);
  assert.match(plain.stdout, /\nseed: 5\n/);
  const prov = ablate(['print', 'b.yaml', '--provenance', '--set', 'seed=5'], dir).stdout;
  assert.match(prov, /depth: 50 # b\.yaml:3:16 \(overrode a\.yaml:2:33\)/);
  assert.match(prov, /seed: 5 # --set seed=5/);
  assert.match(prov, /momentum: 0\.9 # schema default of 'sgd'/);
  const json = JSON.parse(ablate(['print', 'b.yaml', '--json'], dir).stdout) as { hash: string; config: { model: { depth: number } } };
  assert.match(json.hash, /^[0-9a-f]{64}$/);
  assert.equal(json.config.model.depth, 50);
});

test('print --cell --json lists the files the cell merged: its variant\'s too, each once', () => {
  const dir = writeTree({
    'a.yaml': A,
    'fast.yaml': 'extends: a.yaml\ntrainer: {iterations: 5}\n',
    's.yaml': 'extends: a.yaml\nsweep:\n  variants: {plain: {}, fast: {extends: fast.yaml}}\n',
  });
  const files = (cell: string) => (JSON.parse(ablate(['print', 's.yaml', '--cell', `variant=${cell}`, '--json'], dir).stdout) as { files: string[] }).files.map((f) => path.basename(f));
  assert.deepEqual(files('plain'), ['a.yaml', 's.yaml']);
  assert.deepEqual(files('fast'), ['s.yaml', 'a.yaml', 'fast.yaml'], 'merged last where merged twice');
  const cell = JSON.parse(ablate(['print', 's.yaml', '--cell', 'variant=fast', '--json'], dir).stdout) as { config: { trainer: { iterations: number } } };
  assert.equal(cell.config.trainer.iterations, 5);
});

test('explain: the value, who set it and the chain it overrode, with source lines', () => {
  const dir = writeTree({ 'a.yaml': A, 'b.yaml': B });
  const r = ablate(['explain', 'b.yaml', 'model.depth', '--set', 'model.depth=101'], dir);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^model\.depth = 101\n {2}set by --set model\.depth=101\n {2}overrode b\.yaml:3:16\n.*model: \{depth: 50\}\n.*\^\n {2}overrode a\.yaml:2:33\n/);
  const missing = ablate(['explain', 'b.yaml', 'model.dept'], dir);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /did you mean 'model\.depth'/);
});

test('sweep --dry-run validates every cell and lists names, hashes and diffs', () => {
  const dir = writeTree({ 's.yaml': SWEEP });
  const r = ablate(['sweep', 's.yaml', '--dry-run', '--json'], dir);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { cells: { name: string; hash: string; diff: Record<string, unknown> }[] };
  assert.deepEqual(
    out.cells.map((c) => c.name),
    ['depth=18,seed=1,variant=plain', 'depth=18,seed=1,variant=nesterov', 'depth=18,seed=2,variant=plain', 'depth=18,seed=2,variant=nesterov', 'depth=34,seed=1,variant=plain', 'depth=34,seed=2,variant=plain'],
  );
  assert.equal(out.cells[1]!.diff['optimizer.nesterov'], true);
  assert.equal(new Set(out.cells.map((c) => c.hash)).size, 6);
  const text = ablate(['sweep', 's.yaml', '--dry-run'], dir);
  assert.match(text.stdout, /depth=18,seed=1,variant=nesterov +[0-9a-f]{12} +optimizer\.nesterov=true/);
  assert.match(text.stdout, /6 cell\(s\) valid/);
  const cells = ablate(['diff', 's.yaml#depth=18,seed=1,variant=plain', 's.yaml#depth=34,seed=1,variant=plain'], dir);
  assert.equal(cells.code, 0, cells.stderr);
  assert.match(cells.stdout, /\n~ model\.depth: 18 -> 34\n1 changed, 0 added, 0 removed\n$/);
  const bad = ablate(['sweep', 's.yaml', '--dry-run', '--set', 'sweep.grid.model.depth=[18, 34, 19]'], dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /model\.depth.*\n(.*\n)*.*value set by --set sweep\.grid\.model\.depth=\[18, 34, 19\]/);
  // A variant that writes the default is the same run as `plain`: an error, in validate and sweep alike.
  const same = writeTree({ 's.yaml': SWEEP.replace('nesterov: {optimizer.nesterov: true}', 'nesterov: {optimizer.nesterov: false}') });
  for (const args of [['validate', 's.yaml'], ['sweep', 's.yaml', '--dry-run'], ['sweep', 's.yaml']]) {
    const dup = ablate(args, same);
    assert.equal(dup.code, 2, `${args.join(' ')}: ${dup.stdout}${dup.stderr}`);
    assert.match(dup.stderr, /s\.yaml:9:25: error\[sweep\.duplicate-cell\].*resolve to the same config/, args.join(' '));
  }
});

test('plugins lists the built-ins with options, defaults and descriptions', () => {
  const r = ablate(['plugins', 'scheduler']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\n {2}constant {2}Keeps the base learning rate fixed/);
  assert.match(r.stdout, /\n {6}lr: number = 0\.00025 {2}The base learning rate/);
  const bad = ablate(['plugins', 'schedulr']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /did you mean 'scheduler'/);
});

test('schema --check passes on the committed schemas', () => {
  const r = ablate(['schema', '--check']);
  assert.equal(r.code, 0, r.stderr);
});
