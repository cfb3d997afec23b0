/**
 * Following a sweep whose cells run elsewhere (a cluster): `ablate sweep status <dir> [--watch]`
 * shows one row per cell from the sweep folder and the launcher's queue; `ablate sweep cancel
 * <dir> [--cell NAME]` stops cells (checkpoint first). Both rebuild the launcher from the sweep's
 * own resolved config, so they work from any later shell.
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { AblateError } from '../../errors.js';
import { isEnded, logTail, readSweepFolder, sweepProgress, type CellProgress, type SweepFolder } from '../../engine/sweep-state.js';
import { headlineKeys } from '../../engine/headline.js';
import type { Launcher } from '../../plugin/contracts.js';
import { print } from '../options.js';

/** The sweep's launcher (when it submitted cells) and its headline metric names. */
async function openSweep(folder: SweepFolder): Promise<{ launcher?: Launcher; headline: string[] }> {
  if (!folder.launch || folder.launch.handles.length === 0) return { headline: [] };
  const { loadExperiment } = await import('../../config/index.js');
  const { sweepLauncher } = await import('../../engine/sweep-end.js');
  const { engineSettings } = await import('../../engine/schema.js');
  const experiment = await loadExperiment(folder.cells[0]!.file, { baseDir: folder.launch.baseDir });
  return {
    launcher: await sweepLauncher(folder.dir, experiment, experiment.registry, folder.launch.launcher),
    headline: engineSettings(experiment.config).evaluation.headline,
  };
}

/** One row per cell: state, iteration, headline metrics, requeues, log; then the totals. */
export function progressTable(cells: readonly CellProgress[], headline: readonly string[] = []): string {
  const metrics = headlineKeys(headline, cells.map((c) => c.metrics));
  const header = ['cell', 'state', 'iteration', ...metrics, 'requeues', 'log'];
  const rows = cells.map((c) => [
    c.name,
    c.detail && c.detail !== c.state ? `${c.state} ${c.detail}` : c.state,
    c.iteration !== undefined ? String(c.iteration) : '-',
    ...metrics.map((k) => (k in c.metrics ? c.metrics[k]!.toFixed(4) : '-')),
    c.requeues !== undefined ? String(c.requeues) : '-',
    c.log ? path.relative(process.cwd(), c.log) : '-',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((x, i) => x.padEnd(widths[i]!)).join('  ').trimEnd();
  const counts = new Map<string, number>();
  for (const c of cells) counts.set(c.state, (counts.get(c.state) ?? 0) + 1);
  const totals = `${cells.length} cell(s): ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`;
  return [line(header), ...rows.map(line), totals].join('\n');
}

/** Failed or lost cells: their error and the tail of their log. */
function failures(cells: readonly CellProgress[]): string[] {
  const out: string[] = [];
  for (const c of cells.filter((x) => x.state === 'FAILED' || x.state === 'LOST')) {
    out.push(`\n${c.name} ${c.state}: ${c.error ?? '(no error recorded)'}`);
    const tail = logTail(c.log);
    if (tail) out.push(`--- last lines of ${path.relative(process.cwd(), c.log!)} ---`, tail);
  }
  return out;
}

export async function sweepStatus(dir: string, opts: { watch?: boolean; json?: boolean; interval?: number }, out: (line: string) => void = print): Promise<CellProgress[]> {
  const folder = readSweepFolder(dir);
  const { launcher, headline } = await openSweep(folder);
  for (;;) {
    const cells = await sweepProgress(folder, launcher);
    if (opts.json) out(JSON.stringify({ sweepDir: folder.dir, cells }, null, 2));
    else {
      if (opts.watch && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      out(`sweep ${path.relative(process.cwd(), folder.dir) || '.'}${folder.launch ? ` (launcher ${folder.launch.launcher})` : ''}  ${new Date().toLocaleTimeString()}`);
      out(progressTable(cells, headline));
      for (const l of failures(cells)) out(l);
    }
    if (!opts.watch || cells.every(isEnded)) {
      // Every cell of a cluster sweep has ended: end its parent run if nobody has (its monitor
      // died, its last task was killed hard). Cells of this machine end theirs in their own process.
      if (launcher?.detached && cells.every(isEnded)) await endParent(folder.dir, [], opts.json ? () => {} : out);
      if (cells.some((c) => c.state === 'FAILED' || c.state === 'LOST')) process.exitCode = 1;
      return cells;
    }
    await sleep((opts.interval ?? 5) * 1000);
  }
}

/** Ends the sweep's parent run when every cell has ended; says what it found (an earlier end only when `sayEarlierEnd`). */
async function endParent(dir: string, ended: readonly string[], out: (line: string) => void, sayEarlierEnd = false): Promise<void> {
  const { endSweep } = await import('../../engine/sweep-end.js');
  const { stderrLogger } = await import('../../logger.js');
  const r = await endSweep(dir, { log: stderrLogger, ended });
  if (r.state === 'cells-running') out(`the sweep's parent run stays RUNNING: ${r.running.length} cell(s) have not ended (${r.running.join(', ')})`);
  else if (r.endedNow) out(`ended the sweep's parent run: ${r.status}`);
  else if (sayEarlierEnd) out(`the sweep's parent run had ended: ${r.status}`);
}

/**
 * `ablate sweep end <dir>`: ends the sweep's parent run (summary, report, status) once every cell
 * has ended; safe to repeat. A cluster task runs it with `--ended-cell` when it ends for good, so
 * the last one ends the sweep even when no monitor is left.
 */
export async function sweepEnd(dir: string, opts: { endedCell?: string[] }, out: (line: string) => void = print): Promise<void> {
  const folder = readSweepFolder(dir);
  for (const name of opts.endedCell ?? []) {
    if (!folder.cells.some((c) => c.name === name)) throw new AblateError('sweep.unknown-cell', `the sweep has no cell '${name}'`, { where: { file: path.join(folder.dir, 'sweep.json') } });
  }
  await endParent(folder.dir, opts.endedCell ?? [], out, true);
}

export async function sweepCancel(dir: string, opts: { cell?: string[] }, out: (line: string) => void = print): Promise<void> {
  const folder = readSweepFolder(dir);
  const { launcher, headline } = await openSweep(folder);
  const handles = folder.launch?.handles ?? [];
  const wanted = opts.cell && opts.cell.length > 0 ? opts.cell : undefined;
  for (const name of wanted ?? []) {
    if (!folder.cells.some((c) => c.name === name)) {
      throw new AblateError('sweep.unknown-cell', `the sweep has no cell '${name}'`, { where: { file: path.join(folder.dir, 'sweep.json') }, hint: `its cells: ${folder.cells.map((c) => c.name).join(', ')}` });
    }
  }
  const chosen = handles.filter((h) => !wanted || wanted.includes(h.name));
  if (!launcher || chosen.length === 0) {
    out('nothing to cancel: no submitted cell of this sweep is known to a launcher');
    return;
  }
  const live = (await sweepProgress(folder, launcher)).filter((c) => !isEnded(c) && chosen.some((h) => h.name === c.name));
  if (live.length === 0) {
    out('nothing to cancel: the chosen cells have ended');
    return;
  }
  out(`cancelling ${live.map((c) => `${c.name} (${c.state})`).join(', ')}: running cells checkpoint first`);
  await launcher.cancel(chosen.filter((h) => live.some((c) => c.name === h.name)));
  const after = await sweepProgress(folder, launcher);
  out(progressTable(after, headline));
}
