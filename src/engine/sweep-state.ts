/**
 * The state of a sweep, read from its folder: the folder is the truth, the launcher only adds
 * what the folder cannot know yet (queued, running, requeued). Every cell's run folder gets a
 * `result.json` when its run ends (FINISHED, FAILED, or KILLED with a checkpoint); a launcher
 * whose cells run elsewhere records how to find them again in `<sweepDir>/launch.json`.
 *
 *   <sweepDir>/launch.json   { launcher, parentRunId, baseDir, handles: [{ name, id, log }] }
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AblateError } from '../errors.js';
import type { LaunchCell, LaunchCellStatus, LaunchHandle, LaunchResult, Launcher, RunStatus } from '../plugin/contracts.js';
import { isRunDir, readRecord, writerAlive } from '../tracking/record.js';

export const LAUNCH_FILE = 'launch.json';

export interface LaunchRecord {
  launcher: string;
  parentRunId: string;
  /** The folder the cells' relative paths resolve against (to load a cell's file again). */
  baseDir: string;
  handles: LaunchHandle[];
}

/** What `ablate sweep status` shows for one cell. */
export interface CellProgress {
  name: string;
  runDir: string;
  /** REQUEUED: stopped with a checkpoint and queued again; LOST: ended without a result (see its log). */
  state: 'PENDING' | 'RUNNING' | 'REQUEUED' | 'LOST' | Exclude<RunStatus, 'RUNNING'>;
  /** The launcher's own words (e.g. Slurm's state and reason). */
  detail?: string;
  /** Last iteration logged (a finished cell: its final one). */
  iteration?: number;
  metrics: Record<string, number>;
  requeues?: number;
  log?: string;
  error?: string;
}

export function launcherType(config: Record<string, unknown>): string {
  const l = config.launcher as { type?: unknown } | undefined;
  return typeof l?.type === 'string' ? l.type : 'local';
}

export function launcherOptionsOf(config: Record<string, unknown>): Record<string, unknown> {
  const l = config.launcher;
  return l && typeof l === 'object' && !Array.isArray(l) ? (l as Record<string, unknown>) : {};
}

/** Records the handles of a submission; a resumed sweep's new handles replace the old ones by cell. */
export function writeLaunchRecord(sweepDir: string, rec: LaunchRecord): void {
  const earlier = readLaunchRecord(sweepDir);
  const handles = new Map((earlier?.launcher === rec.launcher ? earlier.handles : []).map((h) => [h.name, h]));
  for (const h of rec.handles) handles.set(h.name, h);
  writeFileSync(path.join(sweepDir, LAUNCH_FILE), `${JSON.stringify({ ...rec, handles: [...handles.values()] }, null, 2)}\n`);
}

export function readLaunchRecord(sweepDir: string): LaunchRecord | undefined {
  const file = path.join(sweepDir, LAUNCH_FILE);
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, 'utf8')) as LaunchRecord;
}

export interface SweepFolder {
  dir: string;
  file?: string;
  hash: string;
  cells: { name: string; labels: Record<string, unknown>; hash: string; runDir: string; file: string }[];
  launch?: LaunchRecord;
}

/** Reads `sweep.json` (and `launch.json`) of a sweep folder; a located error when it is none. */
export function readSweepFolder(dir: string): SweepFolder {
  const abs = path.resolve(dir);
  const file = path.join(abs, 'sweep.json');
  if (!existsSync(file)) {
    throw new AblateError('sweep.not-a-sweep-folder', `'${dir}' is not a sweep folder (no sweep.json)`, { where: { file }, hint: 'give the sweep-<name>-<hash> folder that `ablate sweep` printed' });
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as Omit<SweepFolder, 'dir' | 'launch'>;
  const launch = readLaunchRecord(abs);
  return { ...saved, dir: abs, ...(launch ? { launch } : {}) };
}

interface ResultFile {
  status?: Exclude<RunStatus, 'RUNNING'>;
  iteration?: number;
  metrics?: Record<string, number>;
  error?: string;
}

export function readResult(runDir: string): ResultFile | undefined {
  try {
    return JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as ResultFile;
  } catch {
    return undefined;
  }
}

/** The last iteration a (running) cell logged (a resumed attempt continues the same record). */
export function latestIteration(runDir: string): number | undefined {
  if (!isRunDir(runDir)) return undefined;
  let last: number | undefined;
  for (const points of Object.values(readRecord(runDir).metrics)) {
    for (const p of points) if (last === undefined || p.step > last) last = p.step;
  }
  return last;
}

/** Whether the process writing the run's record (its latest attempt) is alive on this machine. */
function recordWriterAlive(runDir: string): boolean {
  if (!isRunDir(runDir)) return false;
  const rec = readRecord(runDir);
  // Another host's writer cannot be checked from here (a cluster node): the launcher knows better.
  return rec.host === os.hostname() && writerAlive(rec);
}

/** The last lines of a cell's log (what `status` shows for a failed cell). */
export function logTail(file: string | undefined, lines = 12): string | undefined {
  if (!file || !existsSync(file)) return undefined;
  const text = readFileSync(file, 'utf8').trimEnd();
  return text.split('\n').slice(-lines).join('\n');
}

/** One cell's state: the launcher's view while it is queued or running, its result.json after. */
export function cellProgress(name: string, runDir: string, launch: LaunchCellStatus | undefined, handle: LaunchHandle | undefined): CellProgress {
  const result = readResult(runDir);
  const base = { name, runDir, metrics: result?.metrics ?? {}, ...(launch?.detail ? { detail: launch.detail } : {}), ...(launch?.requeues !== undefined ? { requeues: launch.requeues } : {}), ...(handle?.log ? { log: handle.log } : {}) };
  if (launch?.state === 'PENDING' || launch?.state === 'RUNNING') {
    // A KILLED result with the job queued again: it was stopped with a checkpoint and requeued.
    const state = launch.state === 'PENDING' && result?.status === 'KILLED' ? 'REQUEUED' : launch.state;
    const iteration = latestIteration(runDir);
    return { ...base, state, ...(iteration !== undefined ? { iteration } : {}) };
  }
  if (result?.status) return { ...base, state: result.status, ...(result.iteration !== undefined ? { iteration: result.iteration } : {}), ...(result.error ? { error: result.error } : {}) };
  const iteration = latestIteration(runDir);
  // A launcher that cannot tell (a local sweep asked from another shell): a live writer of the
  // run's record means the cell is training right now.
  if (launch?.state !== 'ENDED' && recordWriterAlive(runDir)) return { ...base, state: 'RUNNING', ...(iteration !== undefined ? { iteration } : {}) };
  if (launch?.outcome) return { ...base, state: launch.outcome, error: `${launch.detail ?? launch.outcome} before the run wrote a result${handle?.log ? ` (see ${handle.log})` : ''}`, ...(iteration !== undefined ? { iteration } : {}) };
  return { ...base, state: 'LOST', error: `the cell ended without a result${handle?.log ? ` (see ${handle.log})` : ''}`, ...(iteration !== undefined ? { iteration } : {}) };
}

export function isEnded(c: CellProgress): boolean {
  return c.state !== 'PENDING' && c.state !== 'RUNNING' && c.state !== 'REQUEUED';
}

/** Every cell of a sweep folder, asking the launcher about the ones it has handles for. */
export async function sweepProgress(folder: SweepFolder, launcher: Launcher | undefined): Promise<CellProgress[]> {
  const handles = folder.launch?.handles ?? [];
  const states = launcher && handles.length > 0 ? await launcher.status(handles) : [];
  const byName = new Map(states.map((s) => [s.name, s]));
  const handleOf = new Map(handles.map((h) => [h.name, h]));
  return folder.cells.map((c) => cellProgress(c.name, c.runDir, byName.get(c.name), handleOf.get(c.name)));
}

export interface WaitOptions {
  signal?: AbortSignal;
  onPoll?: (cells: readonly CellProgress[]) => void;
  /** Between looks at the folder and the queue (ms). */
  intervalMs?: number;
  /** The launcher could not tell the cells' states this time (it is asked again, 10 times at most). */
  onError?: (error: Error, consecutive: number) => void;
}

/**
 * Waits until every cell that runs elsewhere has ended, looking at the queue and the run folders.
 * Resolves undefined when `signal` aborts first (the cells keep running where they are).
 */
export async function waitForCells(cells: readonly LaunchCell[], launcher: Launcher, handles: readonly LaunchHandle[], opts: WaitOptions = {}): Promise<LaunchResult[] | undefined> {
  const handleOf = new Map(handles.map((h) => [h.name, h]));
  let failures = 0;
  for (;;) {
    let states: LaunchCellStatus[];
    try {
      states = await launcher.status(handles);
      failures = 0;
    } catch (e) {
      // A busy or restarting controller must not end the wait (and leave the parent run open);
      // a launcher that stays unreachable does.
      if (++failures >= 10) throw e;
      opts.onError?.(e as Error, failures);
      if (await pause(opts)) return undefined;
      continue;
    }
    const byName = new Map(states.map((s) => [s.name, s]));
    const progress = cells.map((c) => cellProgress(c.name, c.runDir, byName.get(c.name), handleOf.get(c.name)));
    opts.onPoll?.(progress);
    if (progress.every(isEnded)) {
      return progress.map((p) => ({ name: p.name, runDir: p.runDir, status: p.state === 'LOST' ? 'FAILED' : (p.state as Exclude<RunStatus, 'RUNNING'>), ...(p.error ? { error: p.error } : {}) }));
    }
    if (await pause(opts)) return undefined;
  }
}

/** Waits one interval; true when the signal aborted it. */
async function pause(opts: WaitOptions): Promise<boolean> {
  try {
    await sleep(opts.intervalMs ?? 2000, undefined, opts.signal ? { signal: opts.signal } : {});
    return false;
  } catch {
    return true;
  }
}
