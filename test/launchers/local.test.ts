import { test } from 'node:test';
import assert from 'node:assert/strict';
import { localLauncher } from '../../plugins/launchers/local.js';
import type { BuildContext, LaunchCell, LaunchResult, Launcher } from '../../src/index.js';
import { quietLog } from '../support/log.js';

async function local(parallel = 1): Promise<Launcher> {
  return localLauncher.create({ parallel }, { slot: 'launcher', seed: 0, runDir: undefined, baseDir: '.', log: quietLog } as unknown as BuildContext);
}

const cell = (name: string): LaunchCell => ({ name, resolvedFile: `${name}.yaml`, runDir: `/nonexistent/${name}` });

/** A cell body that runs until its signal stops it or `release` is called. */
function controllableRun() {
  const started: string[] = [];
  const release = new Map<string, () => void>();
  const run = (c: LaunchCell, signal?: AbortSignal) =>
    new Promise<LaunchResult>((resolve) => {
      started.push(c.name);
      release.set(c.name, () => resolve({ name: c.name, status: 'FINISHED' }));
      signal?.addEventListener('abort', () => resolve({ name: c.name, status: 'KILLED' }), { once: true });
    });
  return { started, release, run };
}

test('local launcher: submit returns handles at once, done resolves when the cells end; status follows them', async () => {
  const launcher = await local();
  const { started, release, run } = controllableRun();
  const sub = await launcher.submit([cell('a'), cell('b')], { sweepDir: '/nonexistent', runInProcess: run });
  assert.deepEqual(sub.handles.map((h) => h.name), ['a', 'b']);
  assert.ok(sub.done, 'cells run under this process');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual((await launcher.status(sub.handles)).map((s) => s.state), ['RUNNING', 'PENDING']);
  release.get('a')!();
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(started, ['a', 'b']);
  release.get('b')!();
  assert.deepEqual((await sub.done!).map((r) => r.status), ['FINISHED', 'FINISHED']);
  assert.deepEqual((await launcher.status(sub.handles)).map((s) => s.state), ['ENDED', 'ENDED']);
  assert.deepEqual((await launcher.status([{ name: 'other', id: 'x' }])).map((s) => s.state), ['UNKNOWN']);
});

test('local launcher: cancel stops one cell (running or queued) and leaves the rest', async () => {
  const launcher = await local();
  const { started, release, run } = controllableRun();
  const sub = await launcher.submit([cell('a'), cell('b'), cell('c')], { sweepDir: '/nonexistent', runInProcess: run });
  await new Promise((r) => setImmediate(r));
  await launcher.cancel(sub.handles.filter((h) => h.name === 'a'));
  await new Promise((r) => setImmediate(r));
  await launcher.cancel(sub.handles.filter((h) => h.name === 'c'));
  release.get('b')!();
  const results = await sub.done!;
  assert.deepEqual(results.map((r) => [r.name, r.status]), [['a', 'KILLED'], ['b', 'FINISHED'], ['c', 'KILLED']]);
  assert.deepEqual(started, ['a', 'b'], 'the cancelled queued cell never started');
});

test('local launcher: the sweep signal stops the running cell and every later one', async () => {
  const launcher = await local();
  const { started, run } = controllableRun();
  const ctrl = new AbortController();
  const sub = await launcher.submit([cell('a'), cell('b')], { sweepDir: '/nonexistent', runInProcess: run, signal: ctrl.signal });
  await new Promise((r) => setImmediate(r));
  ctrl.abort();
  assert.deepEqual((await sub.done!).map((r) => r.status), ['KILLED', 'KILLED']);
  assert.deepEqual(started, ['a']);
});

test('local launcher: a sweep of many cells adds one listener to the sweep signal, and removes it at the end', async () => {
  const launcher = await local();
  const ctrl = new AbortController();
  const { getEventListeners } = await import('node:events');
  const cells = Array.from({ length: 51 }, (_, i) => cell(`c${i}`));
  let during = -1;
  const sub = await launcher.submit(cells, {
    sweepDir: '/nonexistent',
    signal: ctrl.signal,
    runInProcess: async (c) => {
      during = Math.max(during, getEventListeners(ctrl.signal, 'abort').length);
      return { name: c.name, status: 'FINISHED' };
    },
  });
  assert.equal((await sub.done!).filter((r) => r.status === 'FINISHED').length, 51);
  assert.equal(during, 1, 'one listener for all cells (node warns above 10)');
  assert.equal(getEventListeners(ctrl.signal, 'abort').length, 0);
});
