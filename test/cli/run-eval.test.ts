/**
 * `ablate run` / `ablate eval` through a child process: Ctrl-C (SIGINT) writes a checkpoint, marks
 * the run KILLED and exits 130; `--resume` with only the run folder finishes it; a NaN loss exits 1
 * with a located message; `ablate eval` scores the checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { listCheckpoints } from '../../src/engine/checkpoint.js';
import { ablateFromSource } from '../support/cli.js';
import { TINY_SCHEDULER, writeTinyExperiment } from '../support/tiny-experiment-file.js';

const ablate = ablateFromSource;

function experiment(dir: string): string {
  return writeTinyExperiment(dir, {
    name: 'engine-cli-test',
    seed: 0,
    scheduler: TINY_SCHEDULER,
    trainer: { type: 'test-supervised', iterations: 60, sleep_ms: 30 },
    checkpoint: { every: 25, keep_last: 5 },
    progress: { log_every: 5 },
    output: { dir: 'runs' },
  });
}

test('Ctrl-C checkpoints and exits 130, --resume finishes the run, eval scores it', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-cli-'));
  experiment(dir);
  let sent = false;
  const killed = await ablate(['run', 'tiny.yaml'], dir, (err, kill) => {
    if (!sent && /it 10\/60/.test(err)) {
      sent = true;
      kill();
    }
  });
  assert.equal(killed.code, 130, killed.stderr);
  assert.match(killed.stderr, /SIGINT: stopping training/);
  assert.match(killed.stdout, /run KILLED after (\d+) iterations/);
  const runDir = path.join(dir, killed.stdout.match(/run folder: (\S+)/)![1]!);
  const stopped = Number(killed.stdout.match(/after (\d+) iterations/)![1]);
  assert.ok(stopped >= 10 && stopped < 60, `stopped at ${stopped}`);
  assert.equal(listCheckpoints(runDir).at(-1)!.iteration, stopped, 'a checkpoint at the interrupted iteration');
  const record = readFileSync(path.join(runDir, 'tracking', 'record.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(record.at(-1).t, 'end');
  assert.equal(record.at(-1).status, 'KILLED');

  const resumed = await ablate(['run', '--resume', runDir], dir);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, new RegExp(`resuming .* at iteration ${stopped}`));
  assert.match(resumed.stdout, /run FINISHED after 60 iterations/);
  assert.equal(listCheckpoints(runDir).at(-1)!.iteration, 60);

  const ev = await ablate(['eval', runDir, '--json'], dir);
  assert.equal(ev.code, 0, ev.stderr);
  const scored = JSON.parse(ev.stdout);
  assert.equal(scored.iteration, 60);
  assert.equal(scored.images, 3);
  assert.ok(scored.scalars.pixel_acc > 0.5, JSON.stringify(scored.scalars));
});

test('a NaN loss exits 1 naming the iteration and the loss', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-cli-'));
  experiment(dir);
  const r = await ablate(['run', 'tiny.yaml', '--set', 'trainer.nan_at=3', '--set', 'trainer.sleep_ms=0'], dir);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /iteration 3: loss 'loss' is NaN; training stopped/);
  assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace for a diverged run');
});

test("eval --network scores a trainer's own network; an unknown name is a located error", async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-cli-'));
  experiment(dir);
  const run = await ablate(['run', 'tiny.yaml', '--set', 'trainer.type=test-teacher', '--set', 'trainer.iterations=8', '--set', 'trainer.sleep_ms=0'], dir);
  assert.equal(run.code, 0, run.stderr);
  const runDir = path.join(dir, run.stdout.match(/run folder: (\S+)/)![1]!);
  const asModel = JSON.parse((await ablate(['eval', runDir, '--json'], dir)).stdout);
  const asTeacher = await ablate(['eval', runDir, '--network', 'teacher', '--json'], dir);
  assert.equal(asTeacher.code, 0, asTeacher.stderr);
  const scored = JSON.parse(asTeacher.stdout);
  assert.deepEqual([asModel.network, scored.network], ['model', 'teacher']);
  assert.notEqual(scored.scalars.pixel_acc, asModel.scalars.pixel_acc, 'another network, another score');
  const bad = await ablate(['eval', runDir, '--network', 'teachr'], dir);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /--network names 'teachr', which is neither a slot nor a network of the trainer/);
  assert.match(bad.stderr, /did you mean 'teacher'/);
  assert.doesNotMatch(bad.stderr, /^\s+at /m, 'no stack trace');
});
