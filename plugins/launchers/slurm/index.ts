/**
 * The `slurm` launcher: hands a sweep's cells to a Slurm cluster as job arrays and returns.
 * One array per resource signature (cells whose launcher options differ go to separate arrays),
 * split at the cluster's MaxArraySize. Each task runs `cell.js`, which runs `ablate run` for its
 * cell in the cell's run folder, checkpoints on the warning signal and requeues itself (the same
 * job id, the same run folder), up to `max_requeues` times.
 *
 *   <sweepDir>/launch/slurm/array-<k>.sh     the batch script
 *   <sweepDir>/launch/slurm/array-<k>.json   its cells, in task order (what cell.js reads)
 *   <sweepDir>/launch/slurm/logs/<job>_<task>.out   each task's output (all attempts, appended)
 *   <sweepDir>/launch/slurm/cancelled/<cell>        written by cancel: do not requeue
 *
 * Status comes from `squeue --json` and the run folders, never from `sacct`.
 */
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { AblateError, definePlugin, type LaunchCell, type LaunchCellStatus, type LaunchHandle, type Launcher } from '../../../src/index.js';
import { maxArraySize, queue, sbatch, slurm, type QueueEntry } from './commands.js';
import { jobScript, type SlurmOptions } from './job-script.js';

export type { SlurmOptions } from './job-script.js';

/** What cell.js reads: the cells of one array in task order. */
export interface TaskFile {
  cells: LaunchCell[];
  maxRequeues: number;
  cancelDir: string;
  /** The sweep folder: a task that ends for good runs `ablate sweep end` on it. */
  sweepDir: string;
}

export function slurmDir(sweepDir: string): string {
  return path.join(sweepDir, 'launch', 'slurm');
}

export function cancelMarker(sweepDir: string, cell: string): string {
  return path.join(slurmDir(sweepDir), 'cancelled', encodeURIComponent(cell));
}

/** How a task runs its cell: node, the cell runner next to this file (through tsx from source). */
function cellCommand(node: string): string[] {
  const here = fileURLToPath(import.meta.url);
  const ext = path.extname(here);
  const runner = path.join(path.dirname(here), `cell${ext}`);
  if (ext === '.ts') return [node, '--import', createRequire(import.meta.url).resolve('tsx'), runner];
  return [node, runner];
}

const PENDING = new Set(['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'CONFIGURING', 'RESV_DEL_HOLD', 'SPECIAL_EXIT']);
const RUNNING = new Set(['RUNNING', 'COMPLETING', 'SUSPENDED', 'STOPPED', 'SIGNALING', 'STAGE_OUT', 'RESIZING']);
/** Ended states that mean the run itself could not say how it ended. */
const KILLED = new Set(['CANCELLED', 'PREEMPTED', 'DEADLINE']);

export function toCellStatus(name: string, q: QueueEntry | undefined): LaunchCellStatus {
  if (!q) return { name, state: 'UNKNOWN' };
  const detail = q.reason && q.reason !== 'None' ? `${q.state} (${q.reason})` : q.state;
  const base = { name, detail, requeues: q.restarts };
  if (PENDING.has(q.state)) return { ...base, state: 'PENDING' };
  if (RUNNING.has(q.state)) return { ...base, state: 'RUNNING' };
  if (q.state === 'COMPLETED') return { ...base, state: 'ENDED' };
  return { ...base, state: 'ENDED', outcome: KILLED.has(q.state) ? 'KILLED' : 'FAILED' };
}

/**
 * The job arrays for a set of cells: one per resource signature (a cell's own launcher block wins
 * over the base's), each split at the cluster's MaxArraySize; cells keep their order.
 */
export function planArrays(cells: readonly LaunchCell[], defaults: SlurmOptions, maxArraySize: number): { opts: SlurmOptions; cells: LaunchCell[] }[] {
  const groups = new Map<string, { opts: SlurmOptions; cells: LaunchCell[] }>();
  for (const c of cells) {
    const { type: _type, ...own } = (c.launcherOptions ?? {}) as Record<string, unknown>;
    const opts = { ...defaults, ...own } as SlurmOptions;
    const key = JSON.stringify(Object.entries(opts).sort(([a], [b]) => a.localeCompare(b)));
    const g = groups.get(key) ?? { opts, cells: [] };
    g.cells.push(c);
    groups.set(key, g);
  }
  const arrays: { opts: SlurmOptions; cells: LaunchCell[] }[] = [];
  for (const g of groups.values()) for (let i = 0; i < g.cells.length; i += maxArraySize) arrays.push({ opts: g.opts, cells: g.cells.slice(i, i + maxArraySize) });
  return arrays;
}

const arrayOf = (h: LaunchHandle) => h.id.split('_')[0]!;

export const slurmLauncher = definePlugin<'launcher', SlurmOptions>({
  kind: 'launcher',
  type: 'slurm',
  description:
    'Submits sweep cells to a Slurm cluster as job arrays and returns (`ablate sweep --wait` blocks). Each cell checkpoints on the warning signal before a time limit or preemption and requeues itself into the same run folder.',
  options: {
    type: 'object',
    properties: {
      partition: { type: 'string', description: 'Partition (`--partition`); the cluster default when absent.' },
      time: { type: 'string', pattern: '^[0-9:-]+$', description: 'Time limit per cell (`--time`), e.g. `04:00:00` or `1-00:00:00`. The run checkpoints `signal_grace` seconds before it and requeues.' },
      cpus_per_task: { type: 'integer', minimum: 1, default: 1, description: 'CPUs per cell (`--cpus-per-task`).' },
      mem: { type: 'string', pattern: '^[0-9]+[KMGT]?$', description: 'Memory per node (`--mem`), e.g. `16G`.' },
      gpus: { type: ['integer', 'string'], description: 'GPUs per cell as generic resources (`--gres=gpu:<gpus>`): a count, or `type:count` such as `a100:1`.' },
      qos: { type: 'string', description: 'Quality of service (`--qos`).' },
      account: { type: 'string', description: 'Account to charge (`--account`).' },
      constraint: { type: 'string', description: 'Node features (`--constraint`), e.g. `v100|a100`.' },
      array_parallelism: { type: 'integer', minimum: 1, description: 'At most this many cells of an array run at once (`--array=0-N%P`); unlimited when absent.' },
      job_name: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', default: 'ablate', description: 'Job name (`--job-name`).' },
      extra: { type: 'array', items: { type: 'string' }, default: [], description: 'More `#SBATCH` options, one per entry, e.g. `--exclusive` or `--nodelist=gpu01`.' },
      setup: { type: 'array', items: { type: 'string' }, default: [], description: 'Shell commands each job runs before the cell, e.g. `module load cuda/12.1` or `source ~/venv/bin/activate`.' },
      signal_grace: { type: 'integer', minimum: 1, default: 120, description: 'Seconds before the time limit (or on preemption, where the site sends it) that the warning signal USR1 arrives: the run finishes its iteration, checkpoints and requeues.' },
      node: { type: 'string', description: 'The Node.js executable on the compute nodes (after `setup`), e.g. `node` to take it from PATH; default: the absolute path of the one running `ablate sweep` (shared file systems).' },
      max_requeues: { type: 'integer', minimum: 0, default: 3, description: 'How often a cell may requeue itself after the warning signal; then it stays KILLED with its checkpoint (`ablate sweep --resume` continues it).' },
    },
    additionalProperties: false,
  },
  create(options, ctx): Launcher {
    const o = options as Partial<SlurmOptions>;
    const defaults: SlurmOptions = { ...o, cpus_per_task: o.cpus_per_task ?? 1, job_name: o.job_name ?? 'ablate', extra: o.extra ?? [], setup: o.setup ?? [], signal_grace: o.signal_grace ?? 120, max_requeues: o.max_requeues ?? 3 };
    const status = async (handles: readonly LaunchHandle[]): Promise<LaunchCellStatus[]> => {
      const q = await queue(new Set(handles.map(arrayOf)));
      return handles.map((h) => toCellStatus(h.name, q.get(h.id)));
    };
    return {
      detached: true,
      async submit(cells, launch) {
        const dir = slurmDir(launch.sweepDir);
        const logDir = path.join(dir, 'logs');
        mkdirSync(logDir, { recursive: true });
        mkdirSync(path.join(dir, 'cancelled'), { recursive: true });
        const limit = await maxArraySize();
        const handles: LaunchHandle[] = [];
        let k = 0;
        while (existsSync(path.join(dir, `array-${k}.sh`))) k++; // a resumed sweep keeps earlier arrays' files
        for (const { opts, cells: chunk } of planArrays(cells, defaults, limit)) {
          const base = path.join(dir, `array-${k++}`);
          // Cancelling a cell marks it; a resubmitted cell starts unmarked.
          for (const c of chunk) rmSync(cancelMarker(launch.sweepDir, c.name), { force: true });
          const tasks: TaskFile = { cells: chunk, maxRequeues: opts.max_requeues, cancelDir: path.join(dir, 'cancelled'), sweepDir: launch.sweepDir };
          writeFileSync(`${base}.json`, `${JSON.stringify(tasks, null, 2)}\n`);
          writeFileSync(`${base}.sh`, jobScript(opts, { tasks: chunk.length, logDir, cwd: process.cwd(), command: [...cellCommand(opts.node ?? process.execPath), `${base}.json`] }));
          const jobId = await sbatch(`${base}.sh`, process.cwd());
          ctx.log.info(`submitted ${chunk.length} cell(s) as Slurm job array ${jobId} (${path.relative(process.cwd(), `${base}.sh`)})`);
          chunk.forEach((c, t) => handles.push({ name: c.name, id: `${jobId}_${t}`, log: path.join(logDir, `${jobId}_${t}.out`) }));
        }
        return { handles };
      },
      status,
      async cancel(handles) {
        const sweepDir = ctx.runDir;
        if (!sweepDir) throw new AblateError('launcher.slurm-no-sweep', 'the slurm launcher cancels cells of a sweep folder; it was built without one');
        for (const h of handles) writeFileSync(cancelMarker(sweepDir, h.name), `${new Date().toISOString()}\n`);
        const before = await status(handles);
        const running = handles.filter((_, i) => before[i]!.state === 'RUNNING');
        const queued = handles.filter((_, i) => before[i]!.state === 'PENDING');
        // Running cells get the warning signal first: they checkpoint and end KILLED (no requeue:
        // they are marked). Then, or at once for queued cells, the jobs are cancelled for good.
        for (const h of running) await slurm('scancel', ['--batch', '--signal=USR1', h.id]);
        if (queued.length > 0) await slurm('scancel', queued.map((h) => h.id));
        const deadline = Date.now() + (defaults.signal_grace + 30) * 1000;
        while (running.length > 0 && Date.now() < deadline) {
          const now = await status(running);
          if (now.every((s) => s.state !== 'RUNNING')) break;
          await sleep(1000);
        }
        const left = (await status(handles)).filter((s) => s.state === 'RUNNING' || s.state === 'PENDING');
        if (left.length > 0) await slurm('scancel', handles.filter((h) => left.some((s) => s.name === h.name)).map((h) => h.id));
      },
    };
  },
});
