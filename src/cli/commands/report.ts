/**
 * `ablate report <sweep run folder | experiment | sweep run id>`: a table of one metric, rows ×
 * columns from the sweep's own axes, mean ± std over replicates (seeds) and each cell's paired
 * difference to a reference row with a 95 % interval; as Markdown (printed), report.json/.csv/.tex
 * and a plot (report.svg, report.png).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { resolveRunFolder } from '../latest.js';
import { AblateError } from '../../errors.js';
import { AGGREGATES, buildTable, describeAggregate, parseStepWindow, runsFromFolder, writeReport, type Aggregate, type IntervalMethod, type ReportSpec, type ReportTable } from '../../report/index.js';
import { runsFromTracker } from '../../report/remote-runs.js';
import { buildSink } from '../../tracking/standalone.js';
import { registryFor } from '../../plugin/bootstrap.js';

export interface ReportCommandOptions {
  /** Tracker to read a target that is not a folder from (default: mlflow). */
  from?: string;
  trackingUri?: string;
  metric?: string;
  rows?: string;
  cols?: string;
  over?: string;
  baseline?: string;
  interval?: string;
  bootstrapSeed?: string;
  better?: string;
  aggregate?: string;
  /** FROM:TO — aggregate only the points with FROM ≤ step < TO. */
  steps?: string;
  percent?: boolean;
  fractions?: boolean;
  digits?: string;
  out?: string;
  png?: boolean;
  json?: boolean;
  csv?: boolean;
  latex?: boolean;
}

const list = (s: string | undefined) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : undefined);

export async function runReport(
  target: string,
  opts: ReportCommandOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<{ table: ReportTable; markdown: string; files: string[] }> {
  // A run id no local folder has may be a sweep on the tracking server (read below).
  target = resolveRunFolder(target, 'sweep', { ifUnknownId: 'keep' });
  const aggregate = (opts.aggregate ?? 'last') as Aggregate;
  if (!AGGREGATES.includes(aggregate)) {
    throw new AblateError('report.option', `--aggregate must be ${AGGREGATES.join(', ')} (got '${opts.aggregate}')`);
  }
  const steps = opts.steps !== undefined ? parseStepWindow(opts.steps) : undefined;
  const interval = (opts.interval ?? 't') as IntervalMethod;
  if (interval !== 't' && interval !== 'bootstrap') throw new AblateError('report.option', `--interval must be t or bootstrap (got '${opts.interval}')`);
  const better = opts.better ?? 'higher';
  if (better !== 'higher' && better !== 'lower') throw new AblateError('report.option', `--better must be higher or lower (got '${opts.better}')`);
  const seed = opts.bootstrapSeed !== undefined ? Number(opts.bootstrapSeed) : 0;
  if (!Number.isInteger(seed)) throw new AblateError('report.option', `--bootstrap-seed must be a whole number (got '${opts.bootstrapSeed}')`);
  const digits = opts.digits !== undefined ? Number(opts.digits) : 1;
  if (!Number.isInteger(digits) || digits < 0 || digits > 10) throw new AblateError('report.option', `--digits must be a whole number from 0 to 10 (got '${opts.digits}')`);
  const spec: ReportSpec = {
    ...(list(opts.metric) ? { metric: list(opts.metric) } : {}),
    ...(list(opts.rows) ? { rows: list(opts.rows) } : {}),
    ...(list(opts.cols) ? { cols: list(opts.cols) } : {}),
    ...(list(opts.over) ? { over: list(opts.over) } : {}),
    percent: opts.percent ?? 'auto',
    ...(opts.baseline !== undefined ? { baseline: opts.baseline } : {}),
    interval,
    seed,
  };
  const fractions = opts.fractions ?? 'auto';
  let runs;
  let title: string;
  let outDir: string;
  if (existsSync(target)) {
    runs = runsFromFolder(target, aggregate, steps);
    // Titled by the experiment the runs belong to; the folder name only when they name none.
    const experiments = [...new Set(runs.map((r) => r.experiment).filter((e): e is string => !!e))];
    title = experiments.length > 0 ? experiments.join(', ') : path.basename(path.resolve(target));
    outDir = opts.out ?? path.join(target, 'report');
  } else {
    const from = opts.from ?? 'mlflow';
    const log = { info: () => undefined, warn: (m: string) => void process.stderr.write(`warning: ${m}\n`), debug: () => undefined };
    const { sink } = await buildSink(await registryFor([]), from, opts.trackingUri ? { tracking_uri: opts.trackingUri } : {}, log);
    const got = await runsFromTracker(sink, from, target, { ...(spec.metric ? { metric: spec.metric } : {}), aggregate, ...(steps ? { steps } : {}) });
    runs = got.runs;
    title = got.title;
    outDir = opts.out ?? path.join('reports', target.replace(/[^A-Za-z0-9_.-]+/g, '_'));
  }
  const table = buildTable(runs, spec);
  const how = describeAggregate(aggregate, steps);
  if (how) table.aggregate = how;
  const { markdown, json, csv, latex, files } = await writeReport(table, { digits, title, fractions, better }, outDir, { png: opts.png !== false });
  if (opts.json) out(json);
  else if (opts.csv) out(csv);
  else if (opts.latex) out(latex);
  else out(`${markdown}\nwritten: ${files.join(', ')}\n`);
  return { table, markdown, files };
}

export function register(program: Command): void {
  program
    .command('report')
    .description("a metric's table from a sweep's runs (rows × columns from the sweep's axes, mean ± std over seeds) as Markdown and a plot")
    .argument('<target>', 'a sweep run folder (local records), or an MLflow experiment name or sweep parent run id')
    .option('--from <tracker>', 'tracker that reads targets which are not folders', 'mlflow')
    .option('--tracking-uri <uri>', "that tracker's server URL (its tracking_uri option; MLflow's default: $MLFLOW_TRACKING_URI)")
    .option('--metric <keys>', "metric key(s) to tabulate, first found wins (default: the runs' evaluation.headline)")
    .option('--rows <axes>', "sweep axis label(s), or params.<key> / tags.<key>, for the rows (default: the sweep's variant axis, plus any axis not placed elsewhere)")
    .option('--cols <axes>', "axis (or axes) for the columns (default: the sweep's first grid axis that is not the seed)")
    .option('--over <axes>', "replicate axis (or axes) averaged within a cell (default: the sweep's seed axis)")
    .option('--baseline <row>', 'reference row for the paired differences (default: the first row, e.g. the sweep\'s first variant)')
    .option('--interval <how>', "95 % interval of the paired differences: t (Student's t) or bootstrap (percentile, 10000 resamples)", 't')
    .option('--bootstrap-seed <n>', 'seed of the bootstrap resampling', '0')
    .option('--better <way>', 'higher or lower: which values are best (marked per column)', 'higher')
    .option('--aggregate <how>', "a run's value of the metric: last, max, min or mean (of its history)", 'last')
    .option('--steps <from:to>', 'aggregate only the points logged at steps from ≤ step < to (either end may be left open: 1500:, :500), e.g. a training diagnostic over the last quarter')
    .option('--percent', 'multiply values by 100 (default: when all values are within [0, 1])')
    .option('--no-percent', 'never multiply by 100')
    .option('--fractions', 'write whole-number reciprocals as fractions (0.125 as 1/8; default: for an axis whose every value is one)')
    .option('--no-fractions', 'write axis values as they are')
    .option('--digits <n>', 'decimals in the table', '1')
    .option('--out <dir>', 'where report.md/.svg/.png go (default: <run folder>/report or reports/<target>)')
    .option('--no-png', 'skip the PNG')
    .option('--json', 'print the table as JSON (title, axes, cells with per-replicate values, mean, std, n and the paired delta)')
    .option('--csv', 'print the cells as CSV')
    .option('--latex', 'print the table as a LaTeX (booktabs) tabular')
    .action(async (target: string, opts: ReportCommandOptions) => {
      await runReport(target, opts);
    });
}
