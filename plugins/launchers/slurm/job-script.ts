/**
 * The batch script of one job array: `#SBATCH` lines from the launcher options, the site's setup
 * commands, then `exec node …/cell.js <tasks file> <task id>` (exec, so that the warning signal,
 * which `--signal=B:` sends to the batch shell only, reaches the cell runner itself).
 */
export interface SlurmOptions {
  partition?: string;
  time?: string;
  cpus_per_task: number;
  mem?: string;
  gpus?: number | string;
  qos?: string;
  account?: string;
  constraint?: string;
  array_parallelism?: number;
  job_name: string;
  extra: string[];
  setup: string[];
  signal_grace: number;
  max_requeues: number;
  node?: string;
}

export interface ArrayJob {
  tasks: number;
  logDir: string;
  cwd: string;
  /** The command that runs one task, given the task id as its last argument. */
  command: readonly string[];
}

/** Single-quotes a word for bash. */
export function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./=:,@%+-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

export function sbatchLines(o: SlurmOptions): string[] {
  const lines = [`--job-name=${o.job_name}`, `--cpus-per-task=${o.cpus_per_task}`];
  if (o.partition) lines.push(`--partition=${o.partition}`);
  if (o.time) lines.push(`--time=${o.time}`);
  if (o.mem) lines.push(`--mem=${o.mem}`);
  if (o.gpus !== undefined) lines.push(`--gres=gpu:${o.gpus}`);
  if (o.qos) lines.push(`--qos=${o.qos}`);
  if (o.account) lines.push(`--account=${o.account}`);
  if (o.constraint) lines.push(`--constraint=${o.constraint}`);
  // Preemption and time limits: the warning signal lets the run checkpoint, then requeue itself.
  lines.push('--requeue', `--signal=B:USR1@${o.signal_grace}`, '--open-mode=append');
  for (const e of o.extra) lines.push(e.replace(/^#SBATCH\s+/, ''));
  return lines;
}

export function jobScript(o: SlurmOptions, job: ArrayJob): string {
  const range = `0-${job.tasks - 1}${o.array_parallelism ? `%${o.array_parallelism}` : ''}`;
  return [
    '#!/bin/bash',
    '# Written by ablate (slurm launcher): one task per sweep cell.',
    ...sbatchLines(o).map((l) => `#SBATCH ${l}`),
    `#SBATCH --array=${range}`,
    `#SBATCH --output=${job.logDir}/%A_%a.out`,
    `#SBATCH --chdir=${job.cwd}`,
    'set -e',
    ...o.setup,
    `exec ${job.command.map(shellQuote).join(' ')} "$SLURM_ARRAY_TASK_ID"`,
    '',
  ].join('\n');
}
