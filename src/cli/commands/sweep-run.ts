/**
 * Sweep execution behind `ablate sweep <file>` (the command module handles `--dry-run` and loads
 * this one otherwise): expand and validate every cell, then run them through the experiment's
 * launcher under one parent tracker run, and print the summary table. Ctrl-C stops the running
 * cell with a checkpoint, marks the rest KILLED and exits 130; a failed cell exits 1. Either way
 * it prints the `--resume` command that completes the sweep. With a launcher that submits (slurm)
 * it prints the job ids and the commands to follow the sweep, and returns (`--wait` blocks,
 * printing the cells' table whenever it changes).
 */
import path from 'node:path';
import { expandSweep, sweepAxes } from '../../config/index.js';
import { runSweep as runSweepEngine, type SweepOutcome } from '../../engine/sweep.js';
import { builtinRegistry } from '../../plugin/bootstrap.js';
import { engineSettings } from '../../engine/schema.js';
import type { CellProgress } from '../../engine/sweep-state.js';
import { interruptSignal } from './run.js';
import { progressTable } from './sweep-follow.js';
import { print } from '../options.js';

/** The --set arguments again, quoted for a POSIX shell where they need it (copy-pasteable). */
function setArgs(set: readonly string[]): string {
  return set.map((x) => ` --set ${/^[A-Za-z0-9_.,=:+~/@%-]+$/.test(x) ? x : `'${x.replace(/'/g, `'\\''`)}'`}`).join('');
}

export async function runSweep(file: string, options: { set: string[]; json?: boolean; resume?: string; wait?: boolean; launcher?: string }, out: (line: string) => void = print): Promise<SweepOutcome> {
  const cells = await expandSweep(file, { set: options.set });
  const interrupt = interruptSignal('the sweep');
  // --wait on a cluster: the table again whenever a cell changes.
  const headline = engineSettings(cells[0]!.experiment.config).evaluation.headline;
  let shown = '';
  const onPoll = (progress: readonly CellProgress[]) => {
    const table = progressTable(progress, headline);
    const key = table.split('\n').slice(1).join('\n');
    if (key !== shown && !options.json) out(table);
    shown = key;
  };
  let outcome: SweepOutcome;
  try {
    outcome = await runSweepEngine(
      cells.map((c) => ({ name: c.name, labels: c.labels, diff: c.diff, experiment: c.experiment })),
      { registry: cells[0]!.experiment.registry ?? (await builtinRegistry()), file, axes: sweepAxes(file, { set: options.set }), signal: interrupt.signal, out: options.json ? () => {} : out, ...(options.resume ? { resume: options.resume } : {}), ...(options.wait ? { wait: true, onPoll } : {}), ...(options.launcher ? { launcher: options.launcher } : {}) },
    );
  } finally {
    interrupt.dispose();
  }
  if (options.json) out(JSON.stringify({ status: outcome.status, sweepDir: outcome.sweepDir, parentRunId: outcome.parentRunId, cells: outcome.cells }, null, 2));
  else out(`sweep ${outcome.status}: ${outcome.sweepDir}`);
  if (outcome.status === 'SUBMITTED') {
    if (!options.json) {
      const dir = path.relative(process.cwd(), outcome.sweepDir) || '.';
      for (const h of outcome.handles) out(`  ${h.name}: ${h.id}${h.log ? `  log ${path.relative(process.cwd(), h.log)}` : ''}`);
      out(`follow it: ablate sweep status ${dir} --watch`);
      out(`continue it after a stop: ablate sweep ${file} --resume ${dir}${setArgs(options.set)}`);
      out(`stop it:   ablate sweep cancel ${dir} [--cell NAME]`);
    }
    return outcome;
  }
  if (outcome.status !== 'FINISHED' && !options.json) out(`to complete it later: ablate sweep ${file} --resume ${path.relative(process.cwd(), outcome.sweepDir) || '.'}${setArgs(options.set)}`);
  if (outcome.status === 'KILLED') process.exitCode = 130;
  else if (outcome.status === 'FAILED') process.exitCode = 1;
  return outcome;
}
