/**
 * `ablate runs [experiment]`: the runs under the output folder, newest first, one line each:
 * when it started, its status, its name, its headline metric (`evaluation.headline`) and its
 * folder. Sweeps are listed as their parent run (kind `sweep`), cells as runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { print } from '../options.js';
import { AblateError } from '../../errors.js';

export interface RunsOptions {
  dir?: string;
  json?: boolean;
}

export interface RunRow {
  name: string;
  experiment: string;
  kind: 'run' | 'sweep';
  status: string;
  startTime: number;
  /** The headline metric's key and value from the run's result (absent while it runs or when it failed early). */
  headline?: { key: string; value: number };
  runDir: string;
}

/** "3 min ago" */
export function age(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

/** The experiment a command-line argument names: a YAML file's `name:` (or file name), or the name itself. */
function experimentName(arg: string): string {
  if (/\.ya?ml$/i.test(arg)) {
    if (existsSync(arg)) {
      const m = /^name:\s*['"]?([^'"#\n]+?)['"]?\s*(#.*)?$/m.exec(readFileSync(arg, 'utf8'));
      if (m) return m[1]!;
    }
    return path.basename(arg).replace(/\.ya?ml$/i, '');
  }
  return arg;
}

export async function listRuns(experiment: string | undefined, opts: RunsOptions, out: (line: string) => void = print): Promise<RunRow[]> {
  const { findRunDirs } = await import('../../tracking/sync.js');
  const { readRecord } = await import('../../tracking/record.js');
  const { headlineKeys } = await import('../../engine/headline.js');
  const root = path.resolve(opts.dir ?? 'runs');
  if (!existsSync(root)) throw new AblateError('runs.no-folder', `no runs folder at ${path.relative(process.cwd(), root) || root}`, { hint: 'runs are written under output.dir (default runs/); pass --dir <folder>' });
  const name = experiment === undefined ? undefined : experimentName(experiment);
  const rows: RunRow[] = [];
  for (const dir of findRunDirs(root)) {
    let rec;
    try {
      rec = readRecord(dir);
    } catch {
      continue;
    }
    if (name !== undefined && rec.experiment !== name) continue;
    let metrics: Record<string, number> = {};
    try {
      metrics = (JSON.parse(readFileSync(path.join(dir, 'result.json'), 'utf8')) as { metrics?: Record<string, number> }).metrics ?? {};
    } catch {
      /* no result yet */
    }
    let wanted: string[] = [];
    try {
      wanted = JSON.parse(rec.params['evaluation.headline'] ?? '[]') as string[];
    } catch {
      /* not a list: the default */
    }
    const key = headlineKeys(Array.isArray(wanted) ? wanted : [], [metrics])[0];
    rows.push({
      name: rec.name,
      experiment: rec.experiment,
      kind: rec.tags['ablate.sweep'] === 'parent' ? 'sweep' : 'run',
      status: rec.status,
      startTime: rec.startTime,
      ...(key !== undefined && metrics[key] !== undefined ? { headline: { key, value: metrics[key]! } } : {}),
      runDir: dir,
    });
  }
  rows.sort((a, b) => b.startTime - a.startTime);
  if (opts.json) {
    out(JSON.stringify(rows, null, 2));
    return rows;
  }
  if (rows.length === 0) {
    out(`no runs${name !== undefined ? ` of ${name}` : ''} under ${path.relative(process.cwd(), root) || root}`);
    return rows;
  }
  const now = Date.now();
  const table = rows.map((r) => [age(now - r.startTime), r.status, r.kind === 'sweep' ? `${r.name} (sweep)` : r.name, r.headline ? `${r.headline.key} ${r.headline.value.toFixed(4)}` : '-', path.relative(process.cwd(), r.runDir) || '.']);
  const header = ['started', 'status', 'name', 'headline', 'folder'];
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
  for (const row of [header, ...table]) out(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  return rows;
}

export function register(program: Command): void {
  program
    .command('runs')
    .description('list runs, newest first: age, status, name, headline metric, folder')
    .argument('[experiment]', 'only the runs of this experiment (its YAML file or its name)')
    .option('--dir <folder>', 'the output folder to look in', 'runs')
    .option('--json', 'print the list as JSON')
    .action(async (experiment: string | undefined, opts: RunsOptions) => {
      await listRuns(experiment, opts);
    });
}
