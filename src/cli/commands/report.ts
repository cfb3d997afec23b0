/**
 * `ablate report <sweep run folder | experiment | sweep run id>`: the paper-style table as
 * Markdown (printed and written to report.md) and as a plot (report.svg, report.png).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { AblateError } from '../../errors.js';
import { DEFAULT_SPEC, buildTable, isLocalTarget, runsFromFolder, runsFromMlflow, toMarkdown, type Aggregate, type ReportSpec, type ReportTable } from '../../tracking/report.js';
import { toPng, toSvg } from '../../tracking/plot.js';
import { resolveTrackingUri } from '../../tracking/trackers.js';

export interface ReportCommandOptions {
  trackingUri?: string;
  metric?: string;
  method?: string;
  fraction?: string;
  seed?: string;
  aggregate?: string;
  percent?: boolean;
  digits?: string;
  out?: string;
  png?: boolean;
  json?: boolean;
}

const list = (s: string | undefined, dflt: string[]) => (s ? s.split(',').map((x) => x.trim()).filter(Boolean) : dflt);

export async function runReport(
  target: string,
  opts: ReportCommandOptions,
  out: (text: string) => void = (t) => process.stdout.write(t),
): Promise<{ table: ReportTable; markdown: string; files: string[] }> {
  const aggregate = (opts.aggregate ?? 'last') as Aggregate;
  if (!['last', 'max', 'min'].includes(aggregate)) {
    throw new AblateError('report.option', `--aggregate must be last, max or min (got '${opts.aggregate}')`);
  }
  const spec: ReportSpec = {
    method: list(opts.method, DEFAULT_SPEC.method),
    fraction: list(opts.fraction, DEFAULT_SPEC.fraction),
    seed: list(opts.seed, DEFAULT_SPEC.seed),
    metric: list(opts.metric, DEFAULT_SPEC.metric),
    aggregate,
    percent: opts.percent ?? 'auto',
    digits: opts.digits !== undefined ? Number(opts.digits) : DEFAULT_SPEC.digits,
  };
  let runs;
  let title: string;
  let outDir: string;
  if (isLocalTarget(target)) {
    runs = runsFromFolder(target, aggregate);
    title = path.basename(path.resolve(target));
    outDir = opts.out ?? path.join(target, 'report');
  } else {
    const got = await runsFromMlflow(resolveTrackingUri(opts.trackingUri), target, spec);
    runs = got.runs;
    title = got.title;
    outDir = opts.out ?? path.join('reports', target.replace(/[^A-Za-z0-9_.-]+/g, '_'));
  }
  const table = buildTable(runs, spec);
  const markdown = toMarkdown(table, spec.digits, title);
  mkdirSync(outDir, { recursive: true });
  const files = [path.join(outDir, 'report.md'), path.join(outDir, 'report.svg')];
  writeFileSync(files[0]!, markdown);
  const svg = toSvg(table, title);
  writeFileSync(files[1]!, svg);
  if (opts.png !== false) {
    files.push(path.join(outDir, 'report.png'));
    await toPng(svg, files[2]!);
  }
  if (opts.json) out(`${JSON.stringify({ table, files }, null, 2)}\n`);
  else out(`${markdown}\nwritten: ${files.join(', ')}\n`);
  return { table, markdown, files };
}

export function register(program: Command): void {
  program
    .command('report')
    .description('paper-style table (methods × labeled fractions, mean ± std over seeds) as Markdown and a plot')
    .argument('<target>', 'a sweep run folder (local records), or an MLflow experiment name or sweep parent run id')
    .option('--tracking-uri <uri>', 'MLflow server for experiment/run targets (default: $MLFLOW_TRACKING_URI)')
    .option('--metric <keys>', `metric key(s) to tabulate, first found wins (default: ${DEFAULT_SPEC.metric.join(',')})`)
    .option('--method <keys>', `where the method name comes from: params.X / tags.X (default: ${DEFAULT_SPEC.method.join(',')})`)
    .option('--fraction <keys>', `param(s) holding the labeled fraction (default: ${DEFAULT_SPEC.fraction.join(',')})`)
    .option('--seed <keys>', `param(s) holding the seed (default: ${DEFAULT_SPEC.seed.join(',')})`)
    .option('--aggregate <how>', "a run's value of the metric: last, max or min", 'last')
    .option('--percent', 'multiply values by 100 (default: when all values are within [0, 1])')
    .option('--no-percent', 'never multiply by 100')
    .option('--digits <n>', 'decimals in the table', '1')
    .option('--out <dir>', 'where report.md/.svg/.png go (default: <run folder>/report or reports/<target>)')
    .option('--no-png', 'skip the PNG')
    .option('--json', 'print the table as JSON')
    .action(async (target: string, opts: ReportCommandOptions) => {
      await runReport(target, opts);
    });
}
