// Bad files from issue 17's corpus that concern reading YAML: each gives one clear located error,
// and files that are small but expand (aliases) or nest deeply are stopped early.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadExperiment } from '../../src/config/index.js';
import { codeFrame } from '../../src/config/errors.js';
import { parseYaml, YAML_LIMITS } from '../../src/config/yaml-source.js';
import { AblateError } from '../../src/errors.js';
import { testRegistry, MINIMAL, errorsOf } from './helpers.js';
import { writeTree } from '../support/tmp.js';

const registry = testRegistry();

/** Nested aliases, `levels` deep with `fanout` aliases per list: fanout^levels copies. */
function aliasBomb(levels: number, fanout: number): string {
  const lines = [`l0: &l0 [${Array(fanout).fill('lol').join(', ')}]`];
  for (let i = 1; i <= levels; i++) lines.push(`l${i}: &l${i} [${Array(fanout).fill(`*l${i - 1}`).join(', ')}]`);
  return `${lines.join('\n')}\n`;
}

/** The first error of `text`: thrown (syntax, a bound) or returned as a node problem beside the data. */
function parseError(text: string): AblateError {
  try {
    const { problems } = parseYaml(text, undefined);
    if (problems.length > 0) return problems[0]!;
  } catch (e) {
    assert.ok(e instanceof AblateError, `expected an AblateError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a parse error');
}

test('an alias bomb (5 levels of 9) is stopped at the alias budget with a located error', () => {
  const text = aliasBomb(5, 9);
  assert.ok(text.length < 400, `the bomb is ${text.length} bytes`);
  const e = parseError(text);
  assert.equal(e.code, 'config.alias-limit');
  assert.match(e.message, /dereferenced more than 1000 times/);
  assert.ok(e.where?.line !== undefined && e.where.line >= 2, 'located at an alias');
});

test('aliases that copy a large string many times are stopped by the size budget', () => {
  const big = 'x'.repeat(20_000);
  const text = `a: &a "${big}"\nb: [${Array(60).fill('*a').join(', ')}]\n`;
  const e = parseError(text);
  assert.equal(e.code, 'config.alias-limit');
  assert.match(e.message, /more than 1,000,000 nodes and characters/);
});

test('ordinary anchors and aliases still work', () => {
  const { value } = parseYaml('base: &b {lr: 0.1, momentum: 0.9}\nuse: [*b, *b]\n', undefined);
  assert.deepEqual((value as { use: unknown[] }).use, [
    { lr: 0.1, momentum: 0.9 },
    { lr: 0.1, momentum: 0.9 },
  ]);
});

test('nesting deeper than the limit is an error located at the first node too deep', () => {
  const depth = YAML_LIMITS.maxDepth + 5;
  const e = parseError(`a: ${'['.repeat(depth)}${']'.repeat(depth)}\n`);
  assert.equal(e.code, 'config.too-deep');
  assert.equal(e.where?.line, 1);
  // Far deeper than the parser's own stack: still a located error, not a RangeError.
  const huge = parseError(`a: ${'['.repeat(20_000)}${']'.repeat(20_000)}\n`);
  assert.equal(huge.code, 'config.too-deep');
});

test('a code frame of a 50 KB line shows a window around the column, not the whole line', () => {
  const dir = writeTree({ 'long.yaml': `a: ${'['.repeat(25_000)}${']'.repeat(25_000)}\nb: 1\n` });
  const frame = codeFrame(path.join(dir, 'long.yaml'), 1, 800)!;
  for (const line of frame.split('\n')) assert.ok(line.length < 200, `frame line of ${line.length} chars`);
  const [text, caret] = frame.split('\n');
  // The window starts 60 columns before the caret's column (after a '…'), so the caret sits 60
  // characters into the shown text: it still points at column 800 of the original line.
  const shownFrom = text!.indexOf('…') + 1;
  assert.equal(caret!.indexOf('^') - shownFrom, 60);
  // Short lines are untouched.
  assert.match(codeFrame(path.join(dir, 'long.yaml'), 2, 4)!, /> 2 \| b: 1\n\s+\|\s{4}\^/);
});

test('extends naming a directory is a located error at the extends entry', async () => {
  const dir = writeTree({ 'e.yaml': `extends: [somedir]\n${MINIMAL}` });
  mkdirSync(path.join(dir, 'somedir'));
  const [e, ...rest] = await errorsOf(() => loadExperiment(path.join(dir, 'e.yaml'), { registry }));
  assert.equal(rest.length, 0);
  assert.equal(e!.code, 'config.extends-not-a-file');
  assert.deepEqual([e!.where?.file, e!.where?.line, e!.where?.column, e!.where?.key], [path.join(dir, 'e.yaml'), 1, 11, 'extends.0']);
  assert.match(e!.message, /is a directory/);
});

test('a directory given as the experiment itself is an error, not EISDIR', async () => {
  const dir = writeTree({ 'sub/x.yaml': MINIMAL });
  const [e] = await errorsOf(() => loadExperiment(path.join(dir, 'sub'), { registry }));
  assert.equal(e!.code, 'config.not-a-file');
});

test('bytes that are not UTF-8 are an error naming the byte offset and the position', async () => {
  const dir = writeTree({});
  const file = path.join(dir, 'latin1.yaml');
  const head = Buffer.from(MINIMAL.replace('name: toy\n', ''), 'utf8');
  writeFileSync(file, Buffer.concat([head, Buffer.from('name: caf'), Buffer.from([0xe9]), Buffer.from('\n')]));
  const [e] = await errorsOf(() => loadExperiment(file, { registry }));
  assert.equal(e!.code, 'config.not-utf8');
  assert.match(e!.message, new RegExp(`byte offset ${head.length + 9} \\(byte 0xe9\\)`));
  assert.deepEqual([e!.where?.line, e!.where?.column], [5, 10]);
});

test('valid multi-byte UTF-8 (and a BOM) is accepted', async () => {
  const dir = writeTree({ 'u.yaml': `\ufeff${MINIMAL.replace('name: toy', 'name: café-∂-😀')}` });
  const exp = await loadExperiment(path.join(dir, 'u.yaml'), { registry });
  assert.equal(exp.config.name, 'café-∂-😀');
});

test('duplicate keys are named, also quoted and nested ones', () => {
  const e = parseError('a: 1\nname: x\nname: y\n');
  assert.equal(e.code, 'config.duplicate-key');
  assert.match(e.message, /duplicate key 'name'/);
  assert.equal(e.where?.line, 3);
  const nested = parseError('model:\n  "depth": 1\n  depth: 2\n');
  assert.match(nested.message, /duplicate key 'depth'/);
});

test("a key spelled twice differently ('1' and 1) is a duplicate; '__proto__' is not a key", () => {
  const e = parseError('m:\n  1: a\n  "1": b\n');
  assert.equal(e.code, 'config.duplicate-key');
  assert.deepEqual([e.where?.key, e.where?.line], ['m.1', 3]);
  const proto = parseError('model:\n  __proto__: {depth: 50}\n');
  assert.equal(proto.code, 'config.bad-key');
  assert.equal(proto.where?.key, 'model');
});

test('an alias without an anchor is an error, not a silent null; a self-referencing alias stops at the depth bound', () => {
  const e = parseError('a: 1\nb: *nope\n');
  assert.equal(e.code, 'config.yaml-alias');
  assert.deepEqual([e.where?.key, e.where?.line, e.where?.column], ['b', 2, 4]);
  assert.match(e.message, /alias \*nope has no anchor &nope/);
  assert.equal(parseError('a: &a [1, *a]\n').code, 'config.too-deep');
});
