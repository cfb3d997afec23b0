/**
 * Runs an expanded sweep: one parent tracker run for the sweep, one child run per cell (its
 * `parentRunId` pointing at the parent), cells handed to the configured launcher, and a summary
 * table at the end. Cells arrive fully resolved and validated (the config language's
 * `expandSweep`), so a mistake in any cell stops the sweep before anything trains.
 *
 *   <output.dir>/<name>/sweep-<file>-<hash8>/
 *     sweep.json        the cells, their diffs, hashes and run folders
 *     cells/<cell>.yaml each cell's resolved experiment (what a child `ablate run` executes)
 *     summary.md/.json  status and headline metrics per cell
 *     tracking/         the parent run's record (a resumed sweep continues it)
 *
 * Resuming (`ablate sweep <file> --resume <sweep folder>`) reuses the folder and each cell's run
 * folder: FINISHED cells are kept as they are, a cell with a checkpoint continues from its last
 * one, any other cell starts again (an earlier attempt's folder is kept beside it, renamed).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { ExperimentContainer } from '../plugin/container.js';
import type { PluginRegistry } from '../plugin/registry.js';
import type { Logger } from '../plugin/define.js';
import type { LaunchCell, LaunchHandle, LaunchResult, Launcher, RunStatus } from '../plugin/contracts.js';
import { systemTags } from '../tracking/provenance.js';
import { openTracking } from '../tracking/open.js';
import { isRunDir } from '../tracking/record.js';
import { listCheckpoints } from './checkpoint.js';
import { launcherOptionsOf, launcherType, readLaunchRecord, waitForCells, writeLaunchRecord, LAUNCH_FILE, type CellProgress } from './sweep-state.js';
import { engineSettings } from './schema.js';
import type { RunnableExperiment } from '../config/load.js';
import { SWEEP_AXES_TAG, encodeSweepAxes, type SweepAxisInfo } from '../tracking/sweep-axes.js';
import { runExperiment, type RunOutcome } from './run.js';
import { stderrLogger } from '../logger.js';
import { defaultRunName, newRunDir } from './run-dir.js';
import { clearEndedMarkers, endSweep, valueText, withSweepLock, type SweepCellResult } from './sweep-end.js';

export interface SweepCellInput {
  name: string;
  /** Coordinates by axis label (become the parent's axis params and the child's tags). */
  labels: Record<string, unknown>;
  diff: Record<string, unknown>;
  experiment: RunnableExperiment;
}

export interface SweepOptions {
  /** Default registry; a cell's own (built-ins + its `plugins:`) wins. */
  registry: PluginRegistry;
  /** The sweep file (for names). */
  file?: string;
  signal?: AbortSignal;
  log?: Logger;
  /** Printed summary (default stdout). */
  out?: (line: string) => void;
  /** A folder of an earlier run of the same sweep, to complete instead of starting anew. */
  resume?: string;
  /**
   * Runs the cells with this launcher type (its default options) instead of the configured one:
   * the cells, their configs and hashes stay the same (a cluster sweep tried on this machine).
   */
  launcher?: string;
  /** With a launcher whose cells run elsewhere (a cluster): block until every cell has ended. */
  wait?: boolean;
  /** While waiting for cells that run elsewhere: called after each look at the run folders. */
  onPoll?: (cells: readonly CellProgress[]) => void;
  /** Between looks at cells that run elsewhere (ms; default 2000). */
  pollMs?: number;
  /** Called once cells were handed to a launcher that runs them elsewhere (before any waiting). */
  onSubmitted?: (sweepDir: string, parentRunId: string, handles: readonly LaunchHandle[]) => void;
  /** The sweep's axes (which is the variant axis, values in order), for reports; default: from the cells' labels. */
  axes?: readonly SweepAxisInfo[];
}

export { summaryTable, sweepLauncher, type SweepCellResult } from './sweep-end.js';

export interface SweepOutcome {
  /** SUBMITTED: the launcher queued the cells elsewhere and the sweep returned without waiting. */
  status: Exclude<RunStatus, 'RUNNING'> | 'SUBMITTED';
  sweepDir: string;
  parentRunId: string;
  /** Empty when SUBMITTED. */
  cells: SweepCellResult[];
  /** How the launcher finds each cell again (also in `<sweepDir>/launch.json`). */
  handles: LaunchHandle[];
  summary: string;
}

function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9._=,+-]+/g, '_').slice(0, 120) || 'cell';
}

/** A cell's coordinates as params (`sweep.<axis label>`), so every axis, the variant axis too, is a column and a parallel-coordinates axis. */
function cellParams(labels: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).map(([k, v]) => [`sweep.${k}`, valueText(v)]));
}

const reciprocal = (v: unknown): number | undefined => {
  if (typeof v !== 'number' || !(v > 0 && v <= 1)) return undefined;
  const r = 1 / v;
  return Math.abs(r - Math.round(r)) < 1e-9 ? Math.round(r) : undefined;
};

/**
 * Short, distinct names for the trackers (`adv-semi · 1/8 · s0`): the cell's values in the axes'
 * order, the axis names being params; a seed is `s0`, and an axis whose every value is a
 * whole-number reciprocal is written as fractions, as `ablate report` writes it. Cells whose
 * short names would coincide keep their full names.
 */
export function displayNames(cells: readonly SweepCellInput[], axes: readonly SweepAxisInfo[]): Map<string, string> {
  const order = [...axes.map((a) => a.label), ...new Set(cells.flatMap((c) => Object.keys(c.labels)))].filter((l, i, all) => all.indexOf(l) === i);
  const valuesOf = (l: string) => axes.find((a) => a.label === l)?.values ?? cells.map((c) => c.labels[l]).filter((v) => v !== undefined);
  const fractions = new Set(order.filter((l) => valuesOf(l).every((v) => reciprocal(v) !== undefined)));
  const short = (l: string, v: unknown): string => {
    if (typeof v === 'number' && /(^|_)seeds?$/.test(l)) return `s${v}`;
    const r = fractions.has(l) ? reciprocal(v) : undefined;
    return r === undefined ? valueText(v) : r === 1 ? '1' : `1/${r}`;
  };
  const names = cells.map((c) => {
    const labels = order.filter((l) => l in c.labels);
    return labels.length > 0 ? labels.map((l) => short(l, c.labels[l])).join(' · ') : c.name;
  });
  const count = new Map<string, number>();
  for (const n of names) count.set(n, (count.get(n) ?? 0) + 1);
  return new Map(cells.map((c, i) => [c.name, count.get(names[i]!)! > 1 ? c.name : names[i]!]));
}

export async function runSweep(cells: readonly SweepCellInput[], opts: SweepOptions): Promise<SweepOutcome> {
  const log = opts.log ?? stderrLogger;
  const out = opts.out ?? ((l: string) => process.stdout.write(`${l}\n`));
  const base = cells[0]!.experiment;
  const settings = engineSettings(base.config);
  const sweepName = opts.file ? path.basename(opts.file).replace(/\.ya?ml$/i, '') : defaultRunName(base);
  const sweepHash = createHash('sha256').update(cells.map((c) => c.experiment.hash).join('\n')).digest('hex');
  const earlier = opts.resume ? readEarlierSweep(opts.resume, sweepHash) : undefined;
  const sweepDir = earlier?.dir ?? newRunDir({ ...base, hash: sweepHash }, `sweep-${sweepName}`, settings);
  mkdirSync(path.join(sweepDir, 'cells'), { recursive: true });

  // Each cell's run folder sits next to ordinary runs of the experiment, named after the cell.
  const plan = cells.map((c) => {
    const runName = safe(c.name);
    const runDir = earlier?.runDirs.get(c.name) ?? newRunDir(c.experiment, runName, engineSettings(c.experiment.config));
    const resolvedFile = path.join(sweepDir, 'cells', `${runName}.yaml`);
    writeFileSync(resolvedFile, c.experiment.canonicalYaml);
    return { cell: c, runName, runDir, resolvedFile, state: earlier ? cellState(runDir) : ('new' as CellState) };
  });
  const labelNames = [...new Set(cells.flatMap((c) => Object.keys(c.labels)))];
  const axes: SweepAxisInfo[] = opts.axes
    ? [...opts.axes]
    : labelNames.map((l) => ({ label: l, key: l, values: [...new Map(cells.map((c) => [valueText(c.labels[l]), c.labels[l]])).values()], variant: false }));
  const axesTag = encodeSweepAxes(axes);
  const shown = displayNames(cells, axes);
  writeFileSync(
    path.join(sweepDir, 'sweep.json'),
    `${JSON.stringify({ file: opts.file, hash: sweepHash, axes, cells: plan.map((p) => ({ name: p.cell.name, labels: p.cell.labels, diff: p.cell.diff, hash: p.cell.experiment.hash, runDir: p.runDir, file: p.resolvedFile })) }, null, 2)}\n`,
  );

  // The parent run and the launcher come from the base experiment's trackers and launcher.
  const config = opts.launcher ? { ...base.config, launcher: { type: opts.launcher } } : base.config;
  const container = new ExperimentContainer({ registry: opts.registry, config, baseDir: base.baseDir, runDir: sweepDir, log });
  const launcher = await container.get('launcher', 'launcher');
  const axisParams: Record<string, string> = { 'sweep.cells': String(cells.length) };
  for (const l of labelNames) axisParams[`sweep.axis.${l}`] = [...new Set(cells.map((c) => valueText(c.labels[l])))].join(', ');

  const outcomes = new Map<string, RunOutcome>();
  const byName = new Map(plan.map((p) => [p.cell.name, p]));
  let parentRunId = '';
  const runInProcess = async (lc: LaunchCell, signal?: AbortSignal): Promise<LaunchResult> => {
    const p = byName.get(lc.name)!;
    if (signal?.aborted) return { name: lc.name, status: 'KILLED', error: 'not started (sweep interrupted)' };
    log.info(`cell ${lc.name}`);
    const tags: Record<string, string> = { 'ablate.sweep_cell': lc.name, [SWEEP_AXES_TAG]: axesTag };
    for (const [k, v] of Object.entries(p.cell.labels)) tags[`ablate.sweep.${k}`] = valueText(v);
    const r = await runExperiment(p.cell.experiment, {
      registry: opts.registry,
      runName: p.runName,
      displayName: shown.get(p.cell.name)!,
      params: cellParams(p.cell.labels),
      runDir: p.runDir,
      ...(p.state === 'checkpoint' ? { resume: p.runDir } : {}),
      parentRunId,
      tags,
      log,
      ...(signal ? { signal } : {}),
    });
    outcomes.set(lc.name, r);
    return { name: lc.name, status: r.status, runDir: r.runDir, ...(r.error ? { error: r.error.message } : {}) };
  };

  // Starting (or continuing) the parent run and handing the cells over happen under the lock that
  // orders whoever ends the sweep (sweep-end.ts): a cell that ends at once must find the handles
  // of every cell, and the parent's record let go, before it may look.
  const { launchCells, submission } = await withSweepLock(sweepDir, async () => {
    if (earlier) await refuseLiveCells(sweepDir, launcher);
    const tracker = await openTracking(container, log);
    // A resumed sweep continues its parent run (its cells continue theirs, under it).
    const parent = await tracker.startRun({
      name: `sweep:${sweepName}`,
      experiment: String(base.config.name ?? 'default'),
      params: axisParams,
      // The command line masked by every cell's secrets (a --set applies to all cells).
      tags: { ...systemTags(process.cwd(), (argv) => cells.reduce((a, c) => c.experiment.redactArgs?.(a) ?? a, [...argv])), 'ablate.sweep': 'parent', 'ablate.sweep_hash': sweepHash, [SWEEP_AXES_TAG]: axesTag, 'ablate.run_dir': sweepDir, ...(opts.file ? { 'ablate.experiment_file': path.relative(process.cwd(), path.resolve(opts.file)) } : {}) },
      runDir: sweepDir,
      ...(earlier && isRunDir(sweepDir) ? { resume: { released: true } } : {}),
    });
    parentRunId = parent.id;
    parent.logArtifact(path.join(sweepDir, 'sweep.json'));
    log.info(`sweep ${sweepName}: ${cells.length} cell(s) -> ${path.relative(process.cwd(), sweepDir)}`);
    if (earlier) {
      const count = (st: CellState) => plan.filter((p) => p.state === st).length;
      log.info(`resuming: ${count('finished')} finished cell(s) kept, ${count('checkpoint')} continue from their last checkpoint, ${count('new') + count('restart')} (re)start`);
      for (const p of plan) {
        if (p.state !== 'restart' || !existsSync(p.runDir)) continue;
        // An attempt that left no checkpoint: keep its folder (logs, record) beside the new one.
        let k = 1;
        while (existsSync(`${p.runDir}.attempt-${k}`)) k++;
        renameSync(p.runDir, `${p.runDir}.attempt-${k}`);
      }
    }
    const toLaunch: LaunchCell[] = plan
      .filter((p) => p.state !== 'finished')
      .map((p) => ({
        name: p.cell.name,
        resolvedFile: p.resolvedFile,
        runDir: p.runDir,
        launcherOptions: opts.launcher ? {} : launcherOptionsOf(p.cell.experiment.config),
        runArgs: [
          '--run-name', p.runName, '--display-name', shown.get(p.cell.name)!, '--parent-run-id', parent.id, '--base-dir', p.cell.experiment.baseDir,
          ...Object.entries(cellParams(p.cell.labels)).flatMap(([k, v]) => ['--param', `${k}=${v}`]),
          ...(p.state === 'checkpoint' ? ['--resume', p.runDir] : []),
          ...Object.entries(p.cell.labels).flatMap(([k, v]) => ['--tag', `ablate.sweep.${k}=${valueText(v)}`]),
          '--tag', `${SWEEP_AXES_TAG}=${axesTag}`,
        ],
      }));
    clearEndedMarkers(sweepDir, toLaunch.map((c) => c.name));
    const submitted = await launcher.submit(toLaunch, { sweepDir, runInProcess, ...(opts.signal ? { signal: opts.signal } : {}) });
    writeLaunchRecord(sweepDir, { launcher: launcherType(config), parentRunId: parent.id, baseDir: base.baseDir, handles: submitted.handles });
    // Whoever sees the last cell end continues the parent's record and ends it (sweep-end.ts).
    await parent.release();
    await tracker.close();
    return { launchCells: toLaunch, submission: submitted };
  });

  // The cells run here (`done`), or elsewhere: then their run folders say when each has ended.
  if (!submission.done) opts.onSubmitted?.(sweepDir, parentRunId, submission.handles);
  const waited = submission.done ?? (opts.wait ? waitForCells(launchCells, launcher, submission.handles, { ...(opts.signal ? { signal: opts.signal } : {}), ...(opts.onPoll ? { onPoll: opts.onPoll } : {}), ...(opts.pollMs ? { intervalMs: opts.pollMs } : {}), onError: (e, n) => log.warn(`the launcher could not report the cells' states (${n} time(s) in a row): ${e.message}`) }) : undefined);
  const launchedResults = await waited;
  if (!launchedResults) {
    // Submitted and returning: the parent run stays RUNNING until the last cell has ended.
    return { status: 'SUBMITTED', sweepDir, parentRunId, cells: [], handles: submission.handles, summary: '' };
  }
  // Cells that ran in this process: their results are the final word. Cells that ran elsewhere:
  // the folder and the launcher are asked again under the lock (a resumed submission may be newer).
  const ended = await endSweep(sweepDir, {
    log,
    experiment: { ...base, config, registry: opts.registry },
    openTracking: () => openTracking(container, log),
    title: String(base.config.name ?? sweepName),
    ...(submission.done ? { results: launchedResults } : {}),
  });
  if (ended.state !== 'ended') {
    out(`the sweep's cells ${ended.running.join(', ')} were submitted again elsewhere; their sweep ends when they do`);
    return { status: 'SUBMITTED', sweepDir, parentRunId, cells: [], handles: submission.handles, summary: '' };
  }
  const results = ended.cells.map((c) => {
    const o = outcomes.get(c.name);
    return o ? { ...c, metrics: o.metrics, seconds: o.seconds } : c;
  });
  if (!ended.endedNow) log.info(`the sweep's parent run had been ended already (${ended.status})`);
  out(ended.summary);
  const failed = results.filter((r) => r.status === 'FAILED');
  for (const f of failed) out(`cell ${f.name} FAILED: ${f.error ?? '(see its run folder)'}`);
  return { status: ended.status, sweepDir, parentRunId, cells: results, handles: submission.handles, summary: ended.summary };
}

/** What a resumed sweep does with a cell: keep it, continue it, or run it (again). */
export type CellState = 'new' | 'finished' | 'checkpoint' | 'restart';

export function cellState(runDir: string): CellState {
  if (!existsSync(runDir)) return 'new';
  try {
    const r = JSON.parse(readFileSync(path.join(runDir, 'result.json'), 'utf8')) as { status?: string };
    if (r.status === 'FINISHED') return 'finished';
  } catch {
    /* never finished (no or unreadable result.json) */
  }
  return listCheckpoints(runDir).length > 0 ? 'checkpoint' : 'restart';
}

/** The folder and cell run folders of an earlier run of this very sweep (same cells, same configs). */
function readEarlierSweep(dir: string, sweepHash: string): { dir: string; runDirs: Map<string, string> } {
  const file = path.join(path.resolve(dir), 'sweep.json');
  let saved: { hash?: string; cells?: { name: string; runDir: string }[] };
  try {
    saved = JSON.parse(readFileSync(file, 'utf8')) as typeof saved;
  } catch (e) {
    throw new AblateError('sweep.resume-not-found', `cannot resume '${dir}': ${existsSync(file) ? `its sweep.json is unreadable (${(e as Error).message})` : 'it is not a sweep folder (no sweep.json)'}`, {
      where: { file },
      hint: 'give the sweep-<name>-<hash> folder that `ablate sweep` printed',
    });
  }
  if (saved.hash !== sweepHash || !Array.isArray(saved.cells)) {
    throw new AblateError('sweep.resume-mismatch', `cannot resume '${dir}': it ran other cells (sweep hash ${String(saved.hash).slice(0, 12)}, this sweep resolves to ${sweepHash.slice(0, 12)})`, {
      where: { file },
      hint: 'resume with the same experiment file and the same --set values, or start a new sweep',
    });
  }
  return { dir: path.resolve(dir), runDirs: new Map(saved.cells.map((c) => [c.name, c.runDir])) };
}

/** A resumed sweep must not submit a cell again while an earlier submission of it is still queued or running. */
async function refuseLiveCells(sweepDir: string, launcher: Launcher): Promise<void> {
  const handles = readLaunchRecord(sweepDir)?.handles ?? [];
  if (handles.length === 0) return;
  const live = (await launcher.status(handles)).filter((s) => s.state === 'PENDING' || s.state === 'RUNNING');
  if (live.length === 0) return;
  throw new AblateError('sweep.resume-live-cells', `cannot resume ${sweepDir}: ${live.length} cell(s) are still queued or running (${live.map((s) => s.name).join(', ')})`, {
    where: { file: path.join(sweepDir, LAUNCH_FILE) },
    hint: `wait for them (ablate sweep status ${path.relative(process.cwd(), sweepDir) || '.'} --watch) or stop them first (ablate sweep cancel ${path.relative(process.cwd(), sweepDir) || '.'})`,
  });
}
