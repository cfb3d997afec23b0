/**
 * Sweep execution behind `ablate sweep <file>` (the command module handles `--dry-run` and loads
 * this one otherwise): expand and validate every cell, then run them through the experiment's
 * launcher under one parent tracker run, and print the summary table. Ctrl-C stops the running
 * cell with a checkpoint, marks the rest KILLED and exits 130; a failed cell exits 1. Either way
 * it prints the `--resume` command that completes the sweep. With a launcher that submits (slurm)
 * it prints the job ids and the commands to follow the sweep, and returns (`--wait` blocks,
 * printing the cells' table whenever it changes).
 */
import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../../errors.js';
import type { LaunchHandle } from '../../plugin/contracts.js';
import { expandSweep, sweepAxes } from '../../config/index.js';
import { runSweep as runSweepEngine, type SweepOutcome } from '../../engine/sweep.js';
import { sweepLauncher } from '../../engine/sweep-end.js';
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

export interface SweepRunOptions {
  set: string[];
  json?: boolean;
  resume?: string;
  wait?: boolean;
  launcher?: string;
  /** Internal (`--monitor`): be the process a detached launcher's sweep leaves behind. */
  monitor?: boolean;
}

/** The line a monitor prints once the cells are queued; the submitting process reads it and returns. */
const SUBMITTED_MARKER = 'ablate-sweep-submitted: ';

function printSubmitted(out: (line: string) => void, file: string, options: SweepRunOptions, sweepDir: string, handles: readonly LaunchHandle[]): void {
  const dir = path.relative(process.cwd(), sweepDir) || '.';
  out(`sweep SUBMITTED: ${sweepDir}`);
  for (const h of handles) out(`  ${h.name}: ${h.id}${h.log ? `  log ${path.relative(process.cwd(), h.log)}` : ''}`);
  out(`follow it: ablate sweep status ${dir} --watch`);
  out(`continue it after a stop: ablate sweep ${file} --resume ${dir}${setArgs(options.set)}`);
  out(`stop it:   ablate sweep cancel ${dir} [--cell NAME]`);
}

export async function runSweep(file: string, options: SweepRunOptions, out: (line: string) => void = print): Promise<SweepOutcome> {
  const cells = await expandSweep(file, { set: options.set });
  const registry = cells[0]!.experiment.registry ?? (await builtinRegistry());
  if (!options.wait && !options.monitor && (await sweepLauncher(process.cwd(), cells[0]!.experiment, registry, options.launcher)).detached) {
    return submitWithMonitor(file, options, out);
  }
  // A monitor writes to stdout until the cells are queued (the submitting process relays it),
  // then to <sweep dir>/monitor.log: nobody reads its stdout any more.
  let logFile: string | undefined;
  const write = (text: string) => (logFile ? appendFileSync(logFile, text) : process.stdout.write(text));
  const say = options.monitor ? (line: string) => void write(`${line}\n`) : out;
  const log = options.monitor ? { info: (m: string) => say(m), warn: (m: string) => say(`warning: ${m}`), debug() {} } : undefined;
  const onSubmitted = (sweepDir: string, parentRunId: string, handles: readonly LaunchHandle[]) => {
    if (!options.monitor) return;
    printSubmitted(say, file, options, sweepDir, handles);
    const monitorLog = path.join(sweepDir, 'monitor.log');
    process.stdout.write(`${SUBMITTED_MARKER}${JSON.stringify({ sweepDir, parentRunId, handles, log: monitorLog })}\n`);
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    logFile = monitorLog;
  };
  const interrupt = interruptSignal('the sweep');
  // --wait on a cluster: the table again whenever a cell changes.
  const headline = engineSettings(cells[0]!.experiment.config).evaluation.headline;
  let shown = '';
  const onPoll = (progress: readonly CellProgress[]) => {
    const table = progressTable(progress, headline);
    const key = table.split('\n').slice(1).join('\n');
    if (key !== shown && !options.json) say(table);
    shown = key;
  };
  const waiting = options.wait || options.monitor;
  let outcome: SweepOutcome;
  try {
    outcome = await runSweepEngine(
      cells.map((c) => ({ name: c.name, labels: c.labels, diff: c.diff, experiment: c.experiment })),
      {
        registry,
        file,
        axes: sweepAxes(file, { set: options.set }),
        signal: interrupt.signal,
        out: options.json ? () => {} : say,
        onSubmitted,
        ...(log ? { log } : {}),
        ...(options.resume ? { resume: options.resume } : {}),
        ...(waiting ? { wait: true, onPoll } : {}),
        ...(options.monitor ? { pollMs: 5000 } : {}),
        ...(options.launcher ? { launcher: options.launcher } : {}),
      },
    );
  } finally {
    interrupt.dispose();
  }
  if (options.json) out(JSON.stringify({ status: outcome.status, sweepDir: outcome.sweepDir, parentRunId: outcome.parentRunId, cells: outcome.cells }, null, 2));
  else if (outcome.status !== 'SUBMITTED') say(`sweep ${outcome.status}: ${outcome.sweepDir}`);
  if (outcome.status === 'SUBMITTED') {
    if (!options.json) printSubmitted(say, file, options, outcome.sweepDir, outcome.handles);
    return outcome;
  }
  if (outcome.status !== 'FINISHED' && !options.json) say(`to complete it later: ablate sweep ${file} --resume ${path.relative(process.cwd(), outcome.sweepDir) || '.'}${setArgs(options.set)}`);
  if (outcome.status === 'KILLED') process.exitCode = 130;
  else if (outcome.status === 'FAILED') process.exitCode = 1;
  return outcome;
}

/**
 * A sweep whose cells run elsewhere: the sweep runs in a detached process (the monitor) that
 * submits the cells, then waits for them and ends the parent run when the last one has ended.
 * This process relays its output until the cells are queued, and returns.
 */
function submitWithMonitor(file: string, options: SweepRunOptions, out: (line: string) => void): Promise<SweepOutcome> {
  // ABLATE_RUN_ENTRY (node arguments that run the CLI, e.g. from source) as for a sweep's cells.
  const entry = process.env.ABLATE_RUN_ENTRY ? (JSON.parse(process.env.ABLATE_RUN_ENTRY) as string[]) : [...process.execArgv, process.argv[1]!];
  const args = [...entry, 'sweep', file, ...options.set.flatMap((x) => ['--set', x]), ...(options.resume ? ['--resume', options.resume] : []), ...(options.launcher ? ['--launcher', options.launcher] : []), '--monitor'];
  const child = spawn(process.execPath, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let pending = '';
    let done = false;
    child.stderr.on('data', (d: Buffer) => process.stderr.write(d));
    child.stdout.on('data', (d: Buffer) => {
      pending += d.toString();
      for (let i = pending.indexOf('\n'); i >= 0 && !done; i = pending.indexOf('\n')) {
        const line = pending.slice(0, i);
        pending = pending.slice(i + 1);
        if (!line.startsWith(SUBMITTED_MARKER)) {
          out(line);
          continue;
        }
        const info = JSON.parse(line.slice(SUBMITTED_MARKER.length)) as { sweepDir: string; parentRunId: string; handles: LaunchHandle[]; log: string };
        done = true;
        child.stdout.destroy();
        child.stderr.destroy();
        child.unref();
        out(`monitor: process ${child.pid} ends the sweep's parent run when the last cell has ended (log ${path.relative(process.cwd(), info.log)})`);
        resolve({ status: 'SUBMITTED', sweepDir: info.sweepDir, parentRunId: info.parentRunId, cells: [], handles: info.handles, summary: '' });
      }
    });
    child.on('error', (e) => reject(e));
    child.on('close', (code) => {
      if (done) return;
      reject(new AblateError('sweep.not-submitted', `the sweep was not submitted: the submitting process exited with ${code ?? 'a signal'} (its error is above)`, { exitCode: code ?? 1 }));
    });
  });
}
