// Waiting for cells that run elsewhere: the run folders decide, the launcher's view fills in, and a
// launcher that cannot answer for a moment does not end the wait.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { waitForCells } from '../../src/engine/sweep-state.js';
import type { LaunchCellStatus, Launcher } from '../../src/index.js';

test('waitForCells: PENDING/RUNNING wait, a KILLED result while queued again is REQUEUED, transient status errors are retried', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-wait-'));
  const cells = ['a', 'b'].map((name) => ({ name, resolvedFile: `${name}.yaml`, runDir: path.join(dir, name) }));
  for (const c of cells) mkdirSync(c.runDir);
  const result = (name: string, status: string) => writeFileSync(path.join(dir, name, 'result.json'), JSON.stringify({ status, iteration: 5, metrics: { acc: status === 'FINISHED' ? 1 : 0.5 } }));
  // What the queue says on each call; a thrown error = the controller did not answer.
  const script: (LaunchCellStatus[] | Error)[] = [
    [{ name: 'a', state: 'RUNNING' }, { name: 'b', state: 'PENDING' }],
    new Error('slurm_load_jobs error: Socket timed out'),
    [{ name: 'a', state: 'PENDING', requeues: 1 }, { name: 'b', state: 'RUNNING' }],
    new Error('slurm_load_jobs error: Socket timed out'),
    [{ name: 'a', state: 'ENDED' }, { name: 'b', state: 'ENDED' }],
  ];
  let call = 0;
  const launcher: Launcher = {
    async submit() {
      return { handles: [] };
    },
    async status() {
      const next = script[Math.min(call++, script.length - 1)]!;
      if (call === 3) result('a', 'KILLED'); // preempted: checkpoint written, queued again
      if (call === 5) {
        result('a', 'FINISHED');
        result('b', 'FAILED');
      }
      if (next instanceof Error) throw next;
      return next;
    },
    async cancel() {},
  };
  const seen: string[][] = [];
  const errors: number[] = [];
  const results = await waitForCells(cells, launcher, cells.map((c) => ({ name: c.name, id: c.name })), { intervalMs: 1, onPoll: (p) => seen.push(p.map((c) => c.state)), onError: (_e, n) => errors.push(n) });
  assert.deepEqual(seen, [['RUNNING', 'PENDING'], ['REQUEUED', 'RUNNING'], ['FINISHED', 'FAILED']]);
  assert.deepEqual(errors, [1, 1]);
  assert.deepEqual(results!.map((r) => [r.name, r.status]), [['a', 'FINISHED'], ['b', 'FAILED']]);
});

test('waitForCells: a launcher that stays unreachable ends the wait with its error; an abort ends it quietly', async () => {
  const cells = [{ name: 'a', resolvedFile: 'a.yaml', runDir: '/nonexistent/a' }];
  const down: Launcher = { async submit() { return { handles: [] }; }, async status() { throw new Error('squeue: command not found'); }, async cancel() {} };
  await assert.rejects(waitForCells(cells, down, [{ name: 'a', id: '1_0' }], { intervalMs: 1 }), /command not found/);
  const queued: Launcher = { async submit() { return { handles: [] }; }, async status() { return [{ name: 'a', state: 'PENDING' }]; }, async cancel() {} };
  const ctrl = new AbortController();
  setTimeout(() => ctrl.abort(), 20);
  assert.equal(await waitForCells(cells, queued, [{ name: 'a', id: '1_0' }], { intervalMs: 5, signal: ctrl.signal }), undefined);
});
