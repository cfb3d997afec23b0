/**
 * `ablate quickstart` (what `npm start` runs): the whole pipeline in one command on a laptop CPU.
 * Trains `experiments/quickstart.yaml` with a progress bar (its dataset plugin prepares the data
 * on first use), evaluates it, prints the experiment's headline metrics (`evaluation.headline`)
 * and says where the run is and how to look at it in MLflow.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { withSet, print } from '../options.js';
import { AblateError } from '../../errors.js';
import type { RunOutcome } from '../../engine/run.js';

export interface QuickstartOptions {
  set?: string[];
  experiment?: string;
  json?: boolean;
}

function fmtTime(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

/** A metric for people: a value within [0, 1] as a percentage, anything else with 4 decimals. */
function fmtMetric(v: number): string {
  return v >= 0 && v <= 1 ? `${(v * 100).toFixed(2)}%` : v.toFixed(4);
}

/** Whether the run's trackers ship it to MLflow as it runs (`mlflow`, or `auto` with a tracking URI). */
function logsToMlflow(config: Record<string, unknown>): boolean {
  const trackers = Array.isArray(config.trackers) ? (config.trackers as Array<Record<string, unknown>>) : [];
  return trackers.some((t) => t.type === 'mlflow' || (t.type === 'auto' && Boolean(t.tracking_uri ?? process.env.MLFLOW_TRACKING_URI)));
}

export async function quickstart(opts: QuickstartOptions, out: (line: string) => void = print): Promise<RunOutcome> {
  const t0 = performance.now();
  const { packageRoot } = await import('../../package-root.js');
  const { loadExperiment } = await import('../../config/index.js');
  const { runExperiment } = await import('../../engine/run.js');
  const { stderrLogger } = await import('../../logger.js');
  const { engineSettings } = await import('../../engine/schema.js');
  const { headlineKeys } = await import('../../engine/headline.js');
  const { interruptSignal, headline } = await import('./run.js');
  const file = path.resolve(opts.experiment ?? path.join(packageRoot(), 'experiments', 'quickstart.yaml'));
  if (!existsSync(file)) throw new AblateError('quickstart.missing', `the quickstart experiment ${file} is missing`, { where: { file } });
  const log = stderrLogger;

  // 1. Train (the dataset plugin prepares its data on first use; evaluation at the end is part of the run).
  const resolved = await loadExperiment(file, { set: opts.set ?? [] });
  const config = resolved.config as { name?: unknown; trainer?: { type?: unknown; iterations?: unknown } };
  log.info(`[1/2] training ${path.relative(process.cwd(), file)} (${String(config.trainer?.type)}, ${String(config.trainer?.iterations)} iterations); Ctrl-C stops with a checkpoint`);
  const interrupt = interruptSignal('the quickstart');
  let outcome: RunOutcome;
  try {
    outcome = await runExperiment(resolved, { signal: interrupt.signal, runName: 'quickstart' });
  } finally {
    interrupt.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const rel = path.relative(process.cwd(), outcome.runDir) || '.';
  if (outcome.status === 'KILLED') process.exitCode = 130;
  if (outcome.status === 'FAILED') {
    const e = outcome.error;
    if (e instanceof AblateError) throw e;
    throw new AblateError('quickstart.failed', `the quickstart run failed: ${e?.message ?? 'unknown error'} (run folder ${rel})`, { exitCode: 1, cause: e });
  }

  // 2. Report.
  if (opts.json) {
    out(JSON.stringify({ status: outcome.status, runDir: outcome.runDir, metrics: outcome.metrics, iteration: outcome.iteration, itPerSec: outcome.itPerSec, seconds }, null, 2));
    return outcome;
  }
  const keys = headlineKeys(engineSettings(resolved.config).evaluation.headline, [outcome.metrics]);
  out('');
  out(`[2/2] quickstart ${outcome.status} in ${fmtTime(seconds)} (${outcome.iteration} iterations, ${outcome.itPerSec.toFixed(2)} it/s)`);
  for (const k of keys) {
    const v = outcome.metrics[k];
    if (v !== undefined) out(`      ${k} on the evaluation split: ${fmtMetric(v)}`);
  }
  const all = headline(outcome.metrics);
  if (all) out(`      (${all})`);
  out(`      run folder: ${rel}`);
  out(`        config.yaml (the resolved experiment), checkpoints/, eval/ (the metrics' artifacts), tracking/record.jsonl`);
  out('');
  if (logsToMlflow(resolved.config)) {
    // Shipped while it ran: the tracker printed the run's page above, or a warning with the sync command.
    out(`Logged live to MLflow (experiment "${String(config.name ?? 'default')}"): the run's page is the "MLflow: … at <url>" line above`);
  } else {
    out('Look at it in MLflow:');
    out('  mlflow server --host 127.0.0.1 --port 5000          # any MLflow 2.x/3.x server');
    out(`  MLFLOW_TRACKING_URI=http://127.0.0.1:5000 npx ablate sync ${rel}`);
    out(`  then open http://127.0.0.1:5000 (experiment "${String(config.name ?? 'default')}"); with MLFLOW_TRACKING_URI set, runs log live`);
  }
  out('Next:');
  out(`  npx ablate eval ${rel}                          # re-evaluate the final checkpoint`);
  out('  npx ablate sweep <experiment with a sweep: block>  # then: npx ablate report <its sweep folder>');
  return outcome;
}

export function register(program: Command): void {
  withSet(program.command('quickstart').description('train and evaluate experiments/quickstart.yaml (its data prepared on first use), print its headline metrics and where to look (npm start)'))
    .option('--experiment <file>', 'another experiment instead of experiments/quickstart.yaml')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: QuickstartOptions) => {
      await quickstart(opts);
    });
}
