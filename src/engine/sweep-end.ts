/**
 * Ending a sweep's parent run: the summary table, the report, and the parent's end status, once
 * every cell has ended, whoever notices first.
 *
 * Who ends it: the process that ran or waits for the cells (the sweep itself, its monitor,
 * `--wait`), AND each cluster task that ends for good (the last one to end finds every other cell
 * ended), AND `ablate sweep status`. The monitor alone is not enough: it is one process on a login
 * node, and when it dies the parent would stay RUNNING forever. The last cell alone is not enough
 * either: a task killed hard (node failure, SIGKILL) never gets to say it ended, and then `status`
 * (or the monitor) is who sees that every cell has ended. So all of them call `endSweep`, which is
 * idempotent and serialised by a lock in the sweep folder: the first caller that finds every cell
 * ended writes the summary and ends the parent; later callers find it ended.
 *
 *   <sweepDir>/.end.lock               held while the parent's record is written or cells submitted
 *   <sweepDir>/launch/ended/<cell>     a cell's task ended for good (it will not requeue)
 *
 * The parent run: FINISHED when every cell finished; KILLED when a cell was stopped (cancelled,
 * out of requeues); FAILED when a cell failed or ended without a result.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AblateError } from '../errors.js';
import { ExperimentContainer } from '../plugin/container.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Logger } from '../plugin/define.js';
import type { LaunchResult, Launcher, RunStatus } from '../plugin/contracts.js';
import { openTracking, type Tracking } from '../tracking/open.js';
import { isRunDir, readRecord } from '../tracking/record.js';
import type { RunnableExperiment } from '../config/load.js';
import { DEFAULT_SPEC, buildTable, runsFromFolder, writeReport } from '../report/index.js';
import { headlineKeys } from './headline.js';
import { stderrLogger } from '../logger.js';
import { engineSettings } from './schema.js';
import { isEnded, launcherType, readResult, readSweepFolder, sweepProgress, type CellProgress, type SweepFolder } from './sweep-state.js';

export interface SweepCellResult extends LaunchResult {
  hash: string;
  metrics: Record<string, number>;
  seconds?: number;
  labels?: Record<string, unknown>;
}

const LOCK = '.end.lock';

export function endedMarker(sweepDir: string, cell: string): string {
  return path.join(sweepDir, 'launch', 'ended', encodeURIComponent(cell));
}

/** Cells submitted again are not ended any more. */
export function clearEndedMarkers(sweepDir: string, cells: readonly string[]): void {
  for (const c of cells) rmSync(endedMarker(sweepDir, c), { force: true });
}

/** A lock whose holder died (this machine, process gone) or that is older than this is broken. */
const STALE_LOCK_MS = 15 * 60_000;

function lockIsStale(lock: string): boolean {
  try {
    const owner = JSON.parse(readFileSync(path.join(lock, 'owner.json'), 'utf8')) as { pid?: number; host?: string };
    if (owner.host === os.hostname() && typeof owner.pid === 'number') {
      try {
        process.kill(owner.pid, 0);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
      }
    }
  } catch {
    /* no owner written yet: judge by age */
  }
  const st = statSync(lock, { throwIfNoEntry: false });
  return st !== undefined && Date.now() - st.mtimeMs > STALE_LOCK_MS;
}

/**
 * Runs `fn` holding the sweep folder's lock (a directory: mkdir is atomic on local and network
 * file systems alike, which a cluster's shared folder needs).
 */
export async function withSweepLock<T>(sweepDir: string, fn: () => Promise<T>, waitMs = 10 * 60_000): Promise<T> {
  const lock = path.join(sweepDir, LOCK);
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(path.join(lock, 'owner.json'), JSON.stringify({ pid: process.pid, host: os.hostname(), time: new Date().toISOString() }));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (lockIsStale(lock)) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new AblateError('sweep.locked', `the sweep folder ${sweepDir} stayed locked for ${Math.round(waitMs / 1000)} s`, {
          where: { file: lock },
          hint: 'another ablate process is ending or submitting this sweep; if none is, remove the lock folder',
        });
      }
      await sleep(200 + Math.random() * 300);
    }
  }
  try {
    return await fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** A sweep axis value as text: strings as they are, anything else as JSON. */
export function valueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** Markdown table: one row per cell with its coordinates, status and headline metrics (`evaluation.headline`). */
export function summaryTable(cells: readonly SweepCellResult[], labels: readonly string[], headline: readonly string[] = []): string {
  const metricKeys = headlineKeys(headline, cells.map((c) => c.metrics));
  const header = ['cell', ...labels, 'status', ...metricKeys, 'run folder'];
  const rows = cells.map((c) => {
    const coords = c.labels ?? {};
    return [c.name, ...labels.map((l) => valueText(coords[l] ?? '')), c.status, ...metricKeys.map((k) => (k in c.metrics ? c.metrics[k]!.toFixed(4) : '-')), c.runDir ? path.relative(process.cwd(), c.runDir) : '-'];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((x, i) => x.padEnd(widths[i]!)).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

/**
 * `ablate report` on the finished sweep, for its parent run (`report/`: Markdown, JSON, plot).
 * A sweep it cannot tabulate (every cell failed, no metric) costs a warning, not the sweep.
 */
async function sweepReport(sweepDir: string, title: string, results: readonly SweepCellResult[], headline: readonly string[], log: Logger): Promise<string[]> {
  if (!results.some((r) => r.status === 'FINISHED')) return [];
  // The metric the sweep summary shows (an empty evaluation.headline: the first plain scalar).
  const metric = headlineKeys(headline, results.map((r) => r.metrics));
  try {
    const table = buildTable(runsFromFolder(sweepDir, 'last'), { ...DEFAULT_SPEC, ...(metric.length > 0 ? { metric } : {}) });
    return (await writeReport(table, { digits: 1, title, fractions: 'auto', better: 'higher' }, path.join(sweepDir, 'report'))).files.filter((f) => /\.(md|json|svg|png)$/.test(f));
  } catch (e) {
    log.warn(`no report for the sweep's parent run: ${(e as Error).message} (\`ablate report ${path.relative(process.cwd(), sweepDir) || '.'}\` says more)`);
    return [];
  }
}

/** The parent's status from its cells': a stopped cell makes it KILLED, else a failed one FAILED. */
export function sweepStatusOf(cells: readonly { status: LaunchResult['status'] }[]): Exclude<RunStatus, 'RUNNING'> {
  return cells.some((r) => r.status === 'KILLED') ? 'KILLED' : cells.some((r) => r.status === 'FAILED') ? 'FAILED' : 'FINISHED';
}

/**
 * The launcher of an existing sweep folder, built from the sweep's own resolved config (what
 * `ablate sweep status`, `cancel` and `end` ask about the cells they do not run themselves).
 */
export async function sweepLauncher(sweepDir: string, experiment: RunnableExperiment, registry: PluginRegistry, type?: string, log: Logger = stderrLogger): Promise<Launcher> {
  // A sweep run with another launcher than its config names (`--launcher`) is followed by that one.
  const config = type && type !== launcherType(experiment.config) ? { ...experiment.config, launcher: { type } } : experiment.config;
  const container = new ExperimentContainer({ registry, config, baseDir: experiment.baseDir, runDir: path.resolve(sweepDir), log });
  return container.get('launcher', 'launcher');
}

/** The sweep's base experiment as its folder keeps it: the first cell's resolved file (trackers, launcher, headline). */
async function folderExperiment(folder: SweepFolder): Promise<RunnableExperiment & { registry: PluginRegistry }> {
  const { loadExperiment } = await import('../config/load.js');
  const cell = folder.cells[0];
  if (!cell) throw new AblateError('sweep.no-cells', `the sweep folder ${folder.dir} lists no cells`, { where: { file: path.join(folder.dir, 'sweep.json') } });
  const e = await loadExperiment(cell.file, folder.launch ? { baseDir: folder.launch.baseDir } : {});
  return e as RunnableExperiment & { registry: PluginRegistry };
}

export interface EndSweepOptions {
  log: Logger;
  /** Results of the cells this process ran itself (the final word on them). */
  results?: readonly LaunchResult[];
  /** Cells whose task has ended for good (a cluster task that does not requeue): marked before looking. */
  ended?: readonly string[];
  /** The experiment the sweep was run from (trackers, headline, title); default: read from the folder. */
  experiment?: RunnableExperiment & { registry?: PluginRegistry };
  /** The parent's trackers; default: the experiment's. */
  openTracking?: () => Promise<Tracking>;
  /** The report's title; default: the experiment's name. */
  title?: string;
}

export type EndSweepResult =
  /** `endedNow`: this call ended the parent run; otherwise an earlier one had. */
  | { state: 'ended'; endedNow: boolean; status: Exclude<RunStatus, 'RUNNING'>; cells: SweepCellResult[]; summary: string }
  | { state: 'cells-running'; running: string[] };

/**
 * Ends the sweep's parent run if every cell has ended (and it is not ended yet): writes
 * summary.md/.json and the report, logs them on the parent run and ends it. Safe to call from any
 * number of processes at once, any number of times.
 */
export async function endSweep(sweepDir: string, opts: EndSweepOptions): Promise<EndSweepResult> {
  const dir = path.resolve(sweepDir);
  return withSweepLock(dir, async () => {
    for (const c of opts.ended ?? []) {
      mkdirSync(path.dirname(endedMarker(dir, c)), { recursive: true });
      writeFileSync(endedMarker(dir, c), `${new Date().toISOString()}\n`);
    }
    const folder = readSweepFolder(dir);
    const own = new Map((opts.results ?? []).map((r) => [r.name, r]));
    let experiment = opts.experiment;
    // Cells this process did not run and whose task did not say it ended: the launcher and the folder tell.
    const unknown = folder.cells.filter((c) => !own.has(c.name) && !existsSync(endedMarker(dir, c.name)));
    let progress = new Map<string, CellProgress>();
    if (unknown.length > 0) {
      experiment ??= await folderExperiment(folder);
      const launcher = folder.launch && folder.launch.handles.length > 0 ? await sweepLauncher(dir, experiment, experiment.registry!, folder.launch.launcher, opts.log) : undefined;
      progress = new Map((await sweepProgress({ ...folder, cells: unknown }, launcher)).map((p) => [p.name, p]));
      const running = [...progress.values()].filter((p) => !isEnded(p)).map((p) => p.name);
      if (running.length > 0) return { state: 'cells-running', running };
    }
    const cells: SweepCellResult[] = folder.cells.map((c) => {
      const result = readResult(c.runDir);
      const mine = own.get(c.name);
      const seen = progress.get(c.name);
      const status = mine?.status ?? (seen ? (seen.state === 'LOST' ? 'FAILED' : (seen.state as Exclude<RunStatus, 'RUNNING'>)) : (result?.status ?? 'FAILED'));
      const error = mine?.error ?? seen?.error ?? result?.error ?? (result ? undefined : 'the cell ended without a result');
      const seconds = (result as { seconds?: number } | undefined)?.seconds;
      return { name: c.name, status, runDir: c.runDir, hash: c.hash, metrics: result?.metrics ?? {}, labels: c.labels, ...(error ? { error } : {}), ...(seconds !== undefined ? { seconds } : {}) };
    });
    const labels = [...new Set(folder.cells.flatMap((c) => Object.keys(c.labels)))];
    experiment ??= await folderExperiment(folder);
    const headline = engineSettings(experiment.config).evaluation.headline;
    const summary = summaryTable(cells, labels, headline);
    const parent = isRunDir(dir) ? readRecord(dir) : undefined;
    if (!parent || parent.status !== 'RUNNING') {
      // Ended before (by another process, or an earlier call): nothing more to write.
      return { state: 'ended', endedNow: false, status: parent && parent.status !== 'RUNNING' ? parent.status : sweepStatusOf(cells), cells, summary };
    }
    const status = sweepStatusOf(cells);
    writeFileSync(path.join(dir, 'summary.md'), `${summary}\n`);
    writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(cells, null, 2)}\n`);
    const tracking = await (opts.openTracking ?? (() => openTracking(new ExperimentContainer({ registry: experiment!.registry!, config: experiment!.config, baseDir: experiment!.baseDir, runDir: dir, log: opts.log }), opts.log)))();
    // The parent's record was let go by the process that started it (under this same lock).
    const run = await tracking.startRun({ name: parent.name, experiment: parent.experiment, params: {}, tags: {}, runDir: dir, resume: { released: true } });
    run.logArtifact(path.join(dir, 'summary.md'));
    for (const f of await sweepReport(dir, opts.title ?? String(experiment.config.name ?? path.basename(dir)), cells, headline, opts.log)) run.logArtifact(f, 'report');
    await run.end(status);
    await tracking.close();
    return { state: 'ended', endedNow: true, status, cells, summary };
  });
}
