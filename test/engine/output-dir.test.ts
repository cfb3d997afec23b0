/**
 * Run folders stay in the project (issue 17): `output.dir` leaving both the current folder and the
 * experiment's folder needs `output.allow_outside: true` (and is then named in the run's first
 * line); `name: ..` cannot climb out of the output folder; `--run-dir` is the user's own choice.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runExperiment } from '../../src/engine/run.js';
import { AblateError } from '../../src/errors.js';
import { tinyRegistry, tinyExperiment } from '../support/tiny-plugins.js';

const quiet = { info() {}, warn() {}, debug() {} };

function experiment(output: Record<string, unknown>, name?: string) {
  const project = mkdtempSync(path.join(os.tmpdir(), 'ablate-project-'));
  const e = tinyExperiment(project, { trainer: { iterations: 2 } });
  e.config.output = output;
  if (name !== undefined) e.config.name = name;
  return { e, project };
}

test('output.dir outside the project is refused without output.allow_outside, and writes nothing', async () => {
  const elsewhere = path.join(os.tmpdir(), `ablate-elsewhere-${process.pid}-${Date.now()}`);
  const { e } = experiment({ dir: elsewhere });
  await assert.rejects(runExperiment(e, { registry: tinyRegistry(), log: quiet }), (err: unknown) => {
    assert.ok(err instanceof AblateError, String(err));
    assert.equal(err.code, 'run.output-outside');
    assert.equal(err.where?.key, 'output.dir');
    assert.match(err.message, /outside the project/);
    assert.match(err.hint ?? '', /output\.allow_outside: true/);
    return true;
  });
  assert.ok(!existsSync(elsewhere));
});

test('with output.allow_outside: true it runs, and the first line says where', async () => {
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'ablate-elsewhere-'));
  const { e } = experiment({ dir: elsewhere, allow_outside: true });
  const lines: string[] = [];
  const log = { info: (l: string) => lines.push(l), warn: (l: string) => lines.push(`warn: ${l}`), debug() {} };
  const r = await runExperiment(e, { registry: tinyRegistry(), log });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  assert.ok(r.runDir.startsWith(elsewhere));
  assert.equal(lines[0], `warn: run folder ${r.runDir} is outside the project (output.allow_outside: true)`);
});

test('`name: ..` stays inside the output folder; an explicit run folder is not checked', async () => {
  const { e, project } = experiment({ dir: 'placeholder' }, '..');
  e.config.output = { dir: path.join(project, 'runs') };
  const r = await runExperiment(e, { registry: tinyRegistry(), log: quiet, runName: '../../up' });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  assert.equal(path.relative(path.join(project, 'runs'), r.runDir).split(path.sep).length, 2, r.runDir);
  assert.ok(!path.relative(path.join(project, 'runs'), r.runDir).startsWith('..'), r.runDir);

  const chosen = path.join(mkdtempSync(path.join(os.tmpdir(), 'ablate-chosen-')), 'run');
  const { e: e2 } = experiment({ dir: '/nonexistent-root-folder' });
  const r2 = await runExperiment(e2, { registry: tinyRegistry(), log: quiet, runDir: chosen });
  assert.equal(r2.status, 'FINISHED', r2.error?.message);
  assert.equal(r2.runDir, chosen);
});

test('an absolute output.dir typed on the command line (--set) is its own opt-in; the same in a file is not', async () => {
  const { loadExperiment } = await import('../../src/config/load.js');
  const { writeTinyExperiment } = await import('../support/tiny-experiment-file.js');
  const project = mkdtempSync(path.join(os.tmpdir(), 'ablate-project-'));
  const elsewhere = mkdtempSync(path.join(os.tmpdir(), 'ablate-elsewhere-'));
  const blocks = { name: 'outside', metrics: undefined, trainer: { type: 'test-supervised', iterations: 1 }, output: undefined };
  const file = writeTinyExperiment(project, blocks, { file: 'exp.yaml' });
  const r = await runExperiment(await loadExperiment(file, { set: [`output.dir=${elsewhere}`] }), { log: quiet });
  assert.equal(r.status, 'FINISHED', r.error?.message);
  assert.ok(r.runDir.startsWith(elsewhere));
  writeTinyExperiment(project, { ...blocks, output: { dir: elsewhere } }, { file: 'exp.yaml' });
  await assert.rejects(runExperiment(await loadExperiment(file), { log: quiet }), /outside the project/);
});
