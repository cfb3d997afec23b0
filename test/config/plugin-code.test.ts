/**
 * What a config can run (docs/config-language.md, README "Security"): YAML itself never runs code
 * (no language tags), `ablate schema` imports no user module (`--experiment <file>` imports that
 * file's), and a `plugins:` entry is code that every command loading the experiment runs (validate,
 * print, explain, diff, run), also when the entry comes from an extended file or
 * `--set plugins=[…]`. This test pins that documented truth.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkFile, loadCell } from '../../src/config/load.js';
import { experimentSchemaText, schemaFiles } from '../../src/cli/commands/schema.js';
import { AblateError, AblateErrors } from '../../src/errors.js';

function project() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-plugin-code-'));
  const marker = path.join(dir, 'ran.txt');
  // A plugin module with a side effect at import (it exports no plugin: loading then fails, after it ran).
  writeFileSync(path.join(dir, 'side-effect.mjs'), `import { writeFileSync } from 'node:fs';\nwriteFileSync(${JSON.stringify(marker)}, 'ran');\nexport const plugins = [];\n`);
  return { dir, marker };
}

/** The load fails (the module exports no plugin); what matters is that the module ran. */
const settle = (p: Promise<unknown>) => p.catch(() => undefined);

const body = ['name: x', 'model: {type: deeplabv2-resnet18}', 'optimizer: {type: sgd}', 'dataset: {type: mini-voc}', 'trainer: {type: supervised}', ''].join('\n');

test('YAML tags never run code; ablate schema imports no user module', async () => {
  const { dir, marker } = project();
  writeFileSync(path.join(dir, 'tag.yaml'), `name: !!js/function "function () { return 1 }"\n${body.replace('name: x\n', '')}`);
  // The tag is reported with the file's other mistakes (the model type is not a built-in).
  await assert.rejects(checkFile(path.join(dir, 'tag.yaml')), (e: AblateError) => {
    const messages = (e instanceof AblateErrors ? e.errors : [e]).map((x) => x.message);
    assert.ok(messages.some((m) => /YAML tag .* is not allowed/.test(m)), messages.join('\n'));
    return true;
  });
  await schemaFiles();
  assert.ok(!existsSync(marker));
});

test('ablate schema --experiment imports the plugins the file (or a base) lists: that is what it is asked for', async () => {
  const { dir, marker } = project();
  writeFileSync(path.join(dir, 'base.yaml'), 'plugins: [./side-effect.mjs]\n');
  writeFileSync(path.join(dir, 'child.yaml'), `extends: base.yaml\n${body}`);
  await settle(experimentSchemaText(path.join(dir, 'child.yaml')));
  assert.ok(existsSync(marker));
});

test('a plugins: entry is code: validate and print/explain/diff run it, from a base file or --set too', async () => {
  const { dir, marker } = project();
  writeFileSync(path.join(dir, 'direct.yaml'), `plugins: [./side-effect.mjs]\n${body}`);
  await settle(checkFile(path.join(dir, 'direct.yaml')));
  assert.ok(existsSync(marker), 'validate imported the module');
  const second = project();
  writeFileSync(path.join(second.dir, 'base.yaml'), 'plugins: [./side-effect.mjs]\n');
  writeFileSync(path.join(second.dir, 'child.yaml'), `extends: base.yaml\n${body}`);
  await settle(loadCell(path.join(second.dir, 'child.yaml'), undefined));
  assert.ok(existsSync(second.marker), 'print/explain/diff (loadCell) imported the module named in an extended file');
  const third = project();
  writeFileSync(path.join(third.dir, 'plain.yaml'), body);
  await settle(loadCell(path.join(third.dir, 'plain.yaml'), undefined, { set: [`plugins=[${JSON.stringify(path.join(third.dir, 'side-effect.mjs'))}]`] }));
  assert.ok(existsSync(third.marker), '--set plugins=[…] imported the module');
});
