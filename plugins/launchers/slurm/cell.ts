/**
 * One Slurm array task: `node cell.js <array-k.json> <task id>` runs its cell with `ablate run`
 * into the cell's run folder, continuing from the run's checkpoint when an earlier attempt left
 * one (a requeued job starts here again with the same id).
 *
 * The warning signal (USR1: `--signal=B:USR1@<grace>` before the time limit, or a site's
 * preemption notice) reaches this process (the batch script `exec`s it): the run is told to stop
 * like Ctrl-C (finish the iteration, checkpoint, end KILLED), then the job requeues itself with
 * `scontrol requeue` unless the cell was cancelled or has used up `max_requeues`.
 * SIGTERM (scancel, the hard time limit) reaches `ablate run` directly from Slurm, so it is not
 * forwarded: a second signal would make the run quit without its checkpoint.
 *
 * A task that ends for good (finished, failed, cancelled, out of requeues) runs `ablate sweep end
 * <sweep> --ended-cell <cell>`: the last cell to end ends the sweep's parent run, even when the
 * process that submitted the sweep is gone.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { ablateEntry, runChild } from '../local.js';
import type { TaskFile } from './index.js';

const say = (m: string) => process.stdout.write(`ablate[slurm]: ${m}\n`);

function readResult(runDir: string): { status?: string; checkpoint?: string } | undefined {
  try {
    return JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as { status?: string; checkpoint?: string };
  } catch {
    return undefined;
  }
}

/** `--resume` from the submission is replaced by what the run folder holds now. */
function withoutResume(args: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--resume') i++;
    else out.push(args[i]!);
  }
  return out;
}

/** This cell is over (no requeue): the sweep's parent run ends if it was the last one. */
function endedForGood(tasks: TaskFile, cell: string): void {
  const sweepDir = tasks.sweepDir ?? path.resolve(tasks.cancelDir, '..', '..', '..');
  const r = spawnSync(process.execPath, [...ablateEntry(), 'sweep', 'end', sweepDir, '--ended-cell', cell], { encoding: 'utf8' });
  for (const line of `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')) if (line.trim()) say(line);
  if (r.status !== 0) say(`could not end the sweep's parent run (exit ${r.status ?? r.signal}); \`ablate sweep status\` ends it once every cell has ended`);
}

async function main(): Promise<void> {
  const [tasksFile, taskId] = process.argv.slice(2);
  if (!tasksFile || taskId === undefined) throw new Error('usage: cell.js <array-k.json> <task id>');
  const tasks = JSON.parse(readFileSync(tasksFile, 'utf8')) as TaskFile;
  const cell = tasks.cells[Number(taskId)];
  if (!cell) throw new Error(`${tasksFile} has no task ${taskId}`);
  let requeued = false;
  try {
    requeued = await runCell(tasks, cell, taskId);
  } catch (e) {
    say(`error: ${(e as Error).message}`);
    process.exitCode = 1;
  }
  if (!requeued) endedForGood(tasks, cell.name);
}

/** Runs the task's cell; true when the job was requeued (the cell goes on), false when it is over. */
async function runCell(tasks: TaskFile, cell: TaskFile['cells'][number], taskId: string): Promise<boolean> {
  const restarts = Number(process.env.SLURM_RESTART_COUNT ?? 0);
  const jobId = process.env.SLURM_JOB_ID ?? '?';
  const cancelled = () => existsSync(path.join(tasks.cancelDir, encodeURIComponent(cell.name)));
  say(`cell ${cell.name}: job ${process.env.SLURM_ARRAY_JOB_ID ?? jobId}_${taskId} (id ${jobId}) on ${process.env.SLURMD_NODENAME ?? '?'}, attempt ${restarts + 1}`);
  if (cancelled()) {
    say('cancelled before it started');
    process.exitCode = 130;
    return false;
  }

  const earlier = readResult(cell.runDir);
  if (earlier?.status === 'FINISHED') {
    say('already FINISHED (nothing to do)');
    return false;
  }
  const args = withoutResume(cell.runArgs ?? []);
  if (earlier?.checkpoint && existsSync(earlier.checkpoint)) {
    args.push('--resume', cell.runDir);
    say(`continuing from ${earlier.checkpoint}`);
  } else if (existsSync(path.join(cell.runDir, 'tracking'))) {
    // An attempt that left no checkpoint: keep its folder (log, record) beside the new one.
    let k = 1;
    while (existsSync(`${cell.runDir}.attempt-${k}`)) k++;
    renameSync(cell.runDir, `${cell.runDir}.attempt-${k}`);
    say(`an earlier attempt left no checkpoint; kept as ${path.basename(cell.runDir)}.attempt-${k}`);
  }

  const stop = new AbortController();
  let warned = false;
  process.on('SIGUSR1', () => {
    say('warning signal (USR1): checkpointing');
    warned = true;
    stop.abort();
  });
  process.on('SIGTERM', () => say('SIGTERM (the run got it too and checkpoints)'));
  process.on('SIGINT', () => stop.abort());

  const r = await runChild({ ...cell, runArgs: args }, { info: (m) => process.stdout.write(`${m}\n`), warn: (m) => process.stdout.write(`${m}\n`), debug() {} }, stop.signal);
  say(`run ${r.status}${r.error ? `: ${r.error}` : ''}`);
  if (r.status === 'KILLED' && warned) {
    if (cancelled()) say('cancelled: not requeued');
    else if (restarts >= tasks.maxRequeues) say(`not requeued: max_requeues (${tasks.maxRequeues}) reached; \`ablate sweep --resume\` continues it from its checkpoint`);
    else {
      say(`requeueing job ${jobId} (requeue ${restarts + 1} of at most ${tasks.maxRequeues})`);
      execFileSync('scontrol', ['requeue', jobId], { stdio: 'inherit' });
      return true;
    }
  }
  process.exitCode = r.status === 'FINISHED' ? 0 : r.status === 'KILLED' ? 130 : 1;
  return false;
}

main().catch((e: Error) => {
  say(`error: ${e.message}`);
  process.exitCode = 1;
});
