/**
 * `ablate quickstart` (what `npm start` runs): the whole pipeline in one command on a laptop CPU.
 * Builds the embedded mini-VOC data set when it is missing (with the dataset plugin's own tool),
 * trains `experiments/quickstart.yaml` (a short adversarial + semi-supervised run) with a progress
 * bar, evaluates it, and says where the run is and how to look at it in MLflow.
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
  data?: string;
  json?: boolean;
}

function fmtTime(s: number): string {
  return s >= 60 ? `${Math.floor(s / 60)} min ${Math.round(s % 60)} s` : `${s.toFixed(1)} s`;
}

export async function quickstart(opts: QuickstartOptions, out: (line: string) => void = print): Promise<RunOutcome> {
  const t0 = performance.now();
  const { packageRoot } = await import('../main.js');
  const { loadExperiment } = await import('../../config/index.js');
  const { builtinRegistry } = await import('../../plugin/bootstrap.js');
  const { runExperiment, stderrLogger } = await import('../../engine/run.js');
  const { interruptSignal, headline } = await import('./run.js');
  const root = packageRoot();
  const file = path.resolve(opts.experiment ?? path.join(root, 'experiments', 'quickstart.yaml'));
  if (!existsSync(file)) throw new AblateError('quickstart.missing', `the quickstart experiment ${file} is missing`, { where: { file } });
  const log = stderrLogger;

  // 1. Data: the experiment reads mini-VOC from data/mini-voc; build it once, visibly.
  const dataDir = path.resolve(opts.data ?? path.join(root, 'data', 'mini-voc'));
  if (!existsSync(path.join(dataDir, 'ImageSets', 'Segmentation', 'train_aug.txt'))) {
    const registry = await builtinRegistry();
    const tool = registry.get('dataset', 'mini-voc').tool;
    if (!tool) throw new AblateError('quickstart.no-builder', "the 'mini-voc' dataset plugin has no builder tool");
    log.info(`[1/3] building mini-VOC into ${path.relative(process.cwd(), dataDir) || '.'} (once)`);
    const tb = performance.now();
    await tool.run({ out: dataDir }, log);
    log.info(`      built in ${fmtTime((performance.now() - tb) / 1000)}`);
  } else {
    log.info(`[1/3] mini-VOC found in ${path.relative(process.cwd(), dataDir) || '.'}`);
  }

  // 2. Train (evaluation at the end is part of the run).
  const set = [...(opts.set ?? []), ...(opts.data ? [`dataset.root=${dataDir}`] : [])];
  const resolved = await loadExperiment(file, { set });
  log.info(`[2/3] training ${path.relative(process.cwd(), file)} (${String((resolved.config.trainer as { type?: string }).type)}, ${String((resolved.config.trainer as { iterations?: number }).iterations)} iterations); Ctrl-C stops with a checkpoint`);
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

  // 3. Report.
  if (opts.json) {
    out(JSON.stringify({ status: outcome.status, runDir: outcome.runDir, metrics: outcome.metrics, iteration: outcome.iteration, itPerSec: outcome.itPerSec, seconds }, null, 2));
    return outcome;
  }
  const miou = outcome.metrics.miou;
  out('');
  out(`[3/3] quickstart ${outcome.status} in ${fmtTime(seconds)} (${outcome.iteration} iterations, ${outcome.itPerSec.toFixed(2)} it/s)`);
  if (miou !== undefined) out(`      mIoU on mini-VOC val: ${(miou * 100).toFixed(2)}%   (${headline(outcome.metrics)})`);
  out(`      run folder: ${rel}`);
  out(`        config.yaml (the resolved experiment), checkpoints/, eval/ (confusion matrix, per-class IoU), tracking/record.jsonl`);
  out('');
  out('Look at it in MLflow:');
  out('  mlflow server --host 127.0.0.1 --port 5000          # any MLflow 2.x/3.x server');
  out(`  MLFLOW_TRACKING_URI=http://127.0.0.1:5000 npx ablate sync ${rel}`);
  out('  then open http://127.0.0.1:5000 (experiment "quickstart"); with MLFLOW_TRACKING_URI set, runs log live');
  out('Next:');
  out(`  npx ablate eval ${rel}                          # re-evaluate the final checkpoint`);
  out('  npx ablate sweep experiments/mini-voc/table.yaml   # the paper table in miniature');
  return outcome;
}

export function register(program: Command): void {
  withSet(program.command('quickstart').description('build mini-VOC if needed, train and evaluate the quickstart experiment, print mIoU and where to look (npm start)'))
    .option('--experiment <file>', 'another experiment instead of experiments/quickstart.yaml')
    .option('--data <dir>', 'mini-VOC folder (default: data/mini-voc in the ablate folder)')
    .option('--json', 'print the outcome as JSON')
    .action(async (opts: QuickstartOptions) => {
      await quickstart(opts);
    });
}
