/**
 * Slurm through its command-line tools (`sbatch`, `squeue`, `scancel`, `scontrol`): what every
 * site allows, unlike `slurmrestd` (which refuses to run as root). Nothing here needs `sacct`
 * (accounting, slurmdbd), which many small clusters do not run.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { AblateError } from '../../../src/index.js';

const run = promisify(execFile);

/** Runs a Slurm command; a missing command or a refusal becomes a located AblateError. */
export async function slurm(command: string, args: readonly string[], input?: { cwd?: string }): Promise<string> {
  try {
    const { stdout } = await run(command, args, { maxBuffer: 64 * 1024 * 1024, ...(input?.cwd ? { cwd: input.cwd } : {}) });
    return stdout;
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string; code?: string | number };
    if (err.code === 'ENOENT') {
      throw new AblateError('launcher.slurm-missing', `'${command}' not found: the slurm launcher needs Slurm's commands on this machine`, {
        where: { key: 'launcher.type' },
        hint: 'run the sweep on a Slurm login node (or `bash scripts/slurm-cluster.sh start` for a one-node test cluster), or use launcher.type: local',
      });
    }
    const said = (err.stderr ?? '').trim() || err.message;
    throw new AblateError('launcher.slurm-command-failed', `${command} ${args.join(' ')} failed: ${said}`, { hint: 'check the launcher options (partition, account, qos, time) with your site\'s documentation' });
  }
}

/** `sbatch --parsable`: the job id (the cluster name after ';' dropped). */
export async function sbatch(script: string, cwd: string): Promise<string> {
  const out = await slurm('sbatch', ['--parsable', script], { cwd });
  return out.trim().split(';')[0]!;
}

/** The cluster's MaxArraySize (arrays are split at it); 1001 is Slurm's default. */
export async function maxArraySize(): Promise<number> {
  const out = await slurm('scontrol', ['show', 'config']);
  const m = /^MaxArraySize\s*=\s*(\d+)/m.exec(out);
  return m ? Number(m[1]) : 1001;
}

export interface QueueEntry {
  /** `<array job id>_<task>` */
  id: string;
  state: string;
  reason: string;
  restarts: number;
}

interface SqueueJob {
  job_id: number;
  array_job_id?: number;
  array_task_id?: number | null;
  array_task_string?: string;
  job_state: string;
  state_reason?: string;
  restart_cnt?: number;
}

/** "1-3%2", "0,4,7-9" → the task ids. */
export function expandTaskString(s: string): number[] {
  const out: number[] = [];
  for (const part of s.split('%')[0]!.split(',')) {
    const m = /^(\d+)(?:-(\d+))?(?::(\d+))?$/.exec(part.trim());
    if (!m) continue;
    const lo = Number(m[1]);
    const hi = m[2] ? Number(m[2]) : lo;
    const step = m[3] ? Number(m[3]) : 1;
    for (let t = lo; t <= hi; t += step) out.push(t);
  }
  return out;
}

/**
 * The queue's view of the array tasks of the given array jobs: pending tasks not yet split off
 * (one entry with a task range) are expanded. `squeue --json` keeps ended jobs for MinJobAge
 * (5 min by default); older ones are absent, and their run folders tell the rest.
 */
export async function queue(arrayJobIds: ReadonlySet<string>): Promise<Map<string, QueueEntry>> {
  const out = await slurm('squeue', ['--json']);
  const jobs = (JSON.parse(out) as { jobs?: SqueueJob[] }).jobs ?? [];
  const entries = new Map<string, QueueEntry>();
  for (const j of jobs) {
    const arrayId = String(j.array_job_id || j.job_id);
    if (!arrayJobIds.has(arrayId)) continue;
    const tasks = j.array_task_id !== null && j.array_task_id !== undefined ? [j.array_task_id] : expandTaskString(j.array_task_string ?? '');
    for (const t of tasks) entries.set(`${arrayId}_${t}`, { id: `${arrayId}_${t}`, state: j.job_state, reason: j.state_reason ?? 'None', restarts: j.restart_cnt ?? 0 });
  }
  return entries;
}
