/**
 * `ablate run <experiment> [--set k=v …] [--resume <run folder | checkpoint>]`: trains one
 * experiment. Ctrl-C finishes the current iteration, writes a checkpoint, marks the run KILLED and
 * exits 130; a second Ctrl-C quits at once. A NaN loss or a crash exits 1 after the run is marked
 * FAILED. The other flags are what a sweep's child processes are started with.
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveRunFolder } from '../latest.js';
import { collect, withSet } from '../options.js';
import { AblateError } from '../../errors.js';
import type { RunOutcome } from '../../engine/run.js';

export interface RunCommandOptions {
  set?: string[];
  resume?: string;
  runDir?: string;
  runName?: string;
  displayName?: string;
  param?: string[];
  parentRunId?: string;
  baseDir?: string;
  tag?: string[];
  json?: boolean;
}

/**
 * Makes Ctrl-C (and SIGTERM) abort the run gracefully once; a second signal exits immediately.
 * Returns the signal and a function that removes the handlers.
 */
export function interruptSignal(what: string): { signal: AbortSignal; dispose: () => void } {
  const ctrl = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ctrl.signal.aborted) {
      process.stderr.write(`\n${sig} again: quitting without a checkpoint\n`);
      process.exit(130);
    }
    process.stderr.write(`\n${sig}: stopping ${what} after the current iteration and writing a checkpoint (press Ctrl-C again to quit now)\n`);
    ctrl.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ctrl.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

export function headline(metrics: Record<string, number>): string {
  return Object.entries(metrics)
    .filter(([k]) => !k.includes('/') && k !== 'pixels')
    .map(([k, v]) => `${k} ${v.toFixed(4)}`)
    .join(', ');
}

/** Resolves what to run; with only `--resume`, the run's own saved config. */
export async function resolveForRun(experiment: string | undefined, opts: RunCommandOptions) {
  // Heavy modules (tfjs, ajv, plugins) load only when a command runs, so `ablate --help` stays fast.
  const { loadExperiment } = await import('../../config/index.js');
  const { readRunMeta, configFileFor } = await import('../../engine/run-dir.js');
  const { findCheckpoint, readCheckpointMeta, runDirOf } = await import('../../engine/checkpoint.js');
  let file = experiment;
  let baseDir = opts.baseDir;
  if (opts.resume) {
    // Warnings about damaged checkpoints are printed once, by the run itself.
    const entry = findCheckpoint(opts.resume);
    const runDir = runDirOf(entry);
    // The config the checkpoint was trained with: config.yaml, or the one a resume with changed
    // optimisation values wrote (so resuming again does not silently undo the change).
    const own = configFileFor(runDir, readCheckpointMeta(entry).configHash) ?? path.join(runDir, 'config.yaml');
    file ??= own;
    // The saved config's relative paths are relative to the original experiment's folder.
    if (path.resolve(file) === path.resolve(own)) baseDir ??= readRunMeta(runDir)?.baseDir;
  }
  if (!file) throw new AblateError('cli.missing-experiment', 'ablate run needs an experiment file (or --resume <run folder>)', { hint: 'ablate run experiments/quickstart.yaml' });
  if (!existsSync(file)) throw new AblateError('cli.missing-experiment', `experiment file '${file}' not found`, { where: { file } });
  const resolved = await loadExperiment(file, { set: opts.set ?? [], ...(baseDir ? { baseDir } : {}) });
  if (resolved.sweep) {
    throw new AblateError('cli.run-sweep', `${file} is a sweep (${resolved.sweep.cells.length} cells); ablate run trains one experiment`, {
      where: { file, key: 'sweep' },
      hint: `use: ablate sweep ${file}   (or run its base without the sweep: --set sweep~)`,
    });
  }
  return baseDir ? { ...resolved, baseDir: path.resolve(baseDir) } : resolved;
}

/** `--tag k=v` / `--param k=v` values as a map. */
function keyValues(items: readonly string[], flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const t of items) {
    const i = t.indexOf('=');
    if (i <= 0) throw new AblateError(`cli.bad-${flag}`, `--${flag} '${t}' is not key=value`);
    out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

export async function runCommand(experiment: string | undefined, opts: RunCommandOptions, out: (line: string) => void = console.log): Promise<RunOutcome> {
  // `--resume latest` (the newest run folder) or a run id.
  if (opts.resume) opts = { ...opts, resume: resolveRunFolder(opts.resume, 'run') };
  const resolved = await resolveForRun(experiment, opts);
  const { runExperiment } = await import('../../engine/run.js');
  const tags = keyValues(opts.tag ?? [], 'tag');
  const params = keyValues(opts.param ?? [], 'param');
  const interrupt = interruptSignal('training');
  let outcome: RunOutcome;
  try {
    outcome = await runExperiment(resolved, {
      signal: interrupt.signal,
      tags,
      ...(opts.resume ? { resume: opts.resume } : {}),
      ...(opts.runDir ? { runDir: opts.runDir } : {}),
      ...(opts.runName ? { runName: opts.runName } : {}),
      ...(opts.displayName ? { displayName: opts.displayName } : {}),
      ...(Object.keys(params).length > 0 ? { params } : {}),
      ...(opts.parentRunId ? { parentRunId: opts.parentRunId } : {}),
    });
  } finally {
    interrupt.dispose();
  }
  const rel = path.relative(process.cwd(), outcome.runDir) || '.';
  if (opts.json) {
    out(JSON.stringify({ status: outcome.status, runDir: outcome.runDir, runId: outcome.runId, iteration: outcome.iteration, metrics: outcome.metrics, checkpoint: outcome.checkpoint, seconds: outcome.seconds, itPerSec: outcome.itPerSec, error: outcome.error?.message }, null, 2));
  } else {
    const m = headline(outcome.metrics);
    out(`run ${outcome.status} after ${outcome.iteration} iterations in ${outcome.seconds.toFixed(1)} s (${outcome.itPerSec.toFixed(2)} it/s)${m ? `: ${m}` : ''}`);
    out(`run folder: ${rel}`);
  }
  if (outcome.status === 'KILLED') process.exitCode = 130;
  if (outcome.status === 'FAILED') {
    const e = outcome.error;
    if (e instanceof AblateError) throw e;
    throw new AblateError('run.failed', `the run failed: ${e?.message ?? 'unknown error'} (run folder ${rel})`, { exitCode: 1, cause: e });
  }
  return outcome;
}

export function register(program: Command): void {
  withSet(program.command('run')
    .description('train one experiment: run folder, checkpoints, evaluation, tracking; Ctrl-C checkpoints and stops')
    .argument('[experiment]', 'experiment YAML file (optional with --resume: the run\'s own config)'))
    .option('--resume <run>', 'continue a run folder (or a checkpoint file) exactly where it stopped')
    .option('--json', 'print the outcome as JSON')
    .option('--run-dir <dir>', 'use this run folder (sweeps)')
    .option('--run-name <name>', 'run name (default: the experiment file name)')
    .option('--display-name <name>', 'the name trackers and the progress show (default: the run name)')
    .option('--param <key=value>', 'extra tracker param beside the config (repeatable)', collect, [])
    .option('--parent-run-id <id>', 'tracker run id of a sweep parent')
    .option('--base-dir <dir>', 'folder that relative paths in the config resolve against (default: the file\'s)')
    .option('--tag <key=value>', 'extra tracker tag (repeatable)', collect, [])
    .action(async (experiment: string | undefined, opts: RunCommandOptions) => {
      await runCommand(experiment, opts);
    });
}
