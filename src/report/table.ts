/**
 * The report's table: runs grouped into cells by the layout's row and column axes, each cell the
 * mean ± sample standard deviation of one metric over its replicates.
 */
import { AblateError } from '../errors.js';
import { resolveLayout, type Layout, type LayoutRequest, type ReportAxis } from './axes.js';
import type { ReportRun } from './runs.js';
import { pairedDelta, tInterval, type IntervalMethod, type PairedDelta } from './stats.js';

export interface ReportSpec extends LayoutRequest {
  /** Metric keys to try in order; default: the runs' `evaluation.headline` (its first name). */
  metric?: readonly string[];
  /** Multiply values by 100 ('auto': when every value is within [0, 1]). */
  percent: boolean | 'auto';
  /** The reference row for paired differences (default: the first row, e.g. the sweep's first variant). */
  baseline?: string;
  /** How the paired differences' 95 % interval is computed (default 't'). */
  interval?: IntervalMethod;
  /** Seed of the bootstrap resampling (default 0). */
  seed?: number;
}

export const DEFAULT_SPEC: ReportSpec = { percent: 'auto' };

/** One dimension of the table (rows or columns): its axes and their levels in table order. */
export interface Dimension {
  axes: string[];
  /** A level is the run's values on the dimension's axes, joined by ' · '. */
  levels: string[];
}

export interface ReportCell {
  row: string;
  col: string;
  /** Per replicate, in the order of `replicates` (already × 100 when the table is in percent). */
  values: number[];
  /** Each value's coordinate on the `over` axes (e.g. its seed), or its run name when there is none. */
  replicates: string[];
  runs: string[];
  n: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator; 0 for a single value). */
  std: number;
  /** 95 % t interval of the mean (NaN bounds for a single value): what the plot draws. */
  ci: { low: number; high: number };
  /** The paired difference to the reference row's cell in this column (absent for the reference row). */
  delta?: PairedDelta;
}

export interface ReportTable {
  metric: string;
  /** How a run's value was taken from its history when not its last point ("mean over steps 1500–1999"). */
  aggregate?: string;
  percent: boolean;
  rows: Dimension;
  cols: Dimension;
  over: string[];
  /** The standard deviation reported: the sample one (n − 1). */
  std: 'sample';
  /** The reference row of the paired differences, and how their interval is computed. */
  baseline: string | undefined;
  interval: IntervalMethod;
  cells: ReportCell[];
  /** Runs left out, and why (no metric, not finished, no coordinate …). */
  skipped: { name: string; reason: string }[];
  runs: number;
}

export const LEVEL_SEPARATOR = ' · ';

/** mean and sample standard deviation (0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

export function cellAt(t: ReportTable, row: string, col: string): ReportCell | undefined {
  return t.cells.find((c) => c.row === row && c.col === col);
}

/** The metric the runs name as their headline (`evaluation.headline`, logged as a JSON list param). */
export function headlineOf(runs: readonly ReportRun[]): string | undefined {
  for (const r of runs) {
    const raw = r.params['evaluation.headline'];
    if (raw === undefined) continue;
    try {
      const list = JSON.parse(raw) as unknown;
      if (Array.isArray(list) && typeof list[0] === 'string') return list[0];
    } catch {
      if (raw && raw !== '[]') return raw;
    }
  }
  return undefined;
}

function pickMetric(runs: readonly ReportRun[], spec: ReportSpec): string {
  const have = [...new Set(runs.flatMap((r) => Object.keys(r.metrics)))];
  const hint = () => `the runs have: ${[...have.filter((k) => !k.includes('/')), ...have.filter((k) => k.includes('/'))].slice(0, 20).join(', ') || '(no metrics)'}`;
  if (spec.metric && spec.metric.length > 0) {
    const m = spec.metric.find((k) => runs.some((r) => k in r.metrics));
    if (!m) throw new AblateError('report.no-metric', `none of the runs has the metric ${spec.metric.join(' / ')}`, { hint: `pick one with --metric; ${hint()}` });
    return m;
  }
  const headline = headlineOf(runs);
  if (headline === undefined) {
    throw new AblateError('report.no-metric', 'the runs name no headline metric (evaluation.headline is empty or not logged)', {
      hint: `set evaluation.headline in the experiment, or pick a metric with --metric; ${hint()}`,
    });
  }
  if (!runs.some((r) => headline in r.metrics)) {
    throw new AblateError('report.no-metric', `none of the runs has their headline metric ${headline}`, { hint: `pick one with --metric; ${hint()}` });
  }
  return headline;
}

/** Levels in table order: the axes' declared orders, then order of appearance (numeric when every value is a number). */
function orderLevels(axes: readonly ReportAxis[], seen: readonly string[][]): string[][] {
  const rank = axes.map((axis, i) => {
    const appeared = [...new Set(seen.map((v) => v[i]!))];
    const numeric = appeared.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
    const rest = appeared.filter((v) => !axis.order?.includes(v));
    if (numeric) rest.sort((a, b) => Number(a) - Number(b));
    const order = [...(axis.order ?? []).filter((v) => appeared.includes(v)), ...rest];
    return new Map(order.map((v, k) => [v, k]));
  });
  const unique = [...new Map(seen.map((v) => [v.join('\u0000'), v])).values()];
  return unique.sort((a, b) => {
    for (let i = 0; i < axes.length; i++) {
      const d = rank[i]!.get(a[i]!)! - rank[i]!.get(b[i]!)!;
      if (d !== 0) return d;
    }
    return 0;
  });
}

/** Builds the table from runs. Parent runs (a sweep's, or any with children in the set) are left out. */
export function buildTable(all: readonly ReportRun[], spec: ReportSpec = DEFAULT_SPEC, layout?: Layout): ReportTable {
  const parents = new Set(all.map((r) => r.parent).filter((p): p is string => !!p));
  const runs = all.filter((r) => !parents.has(r.id) && r.tags['ablate.sweep'] !== 'parent').sort((a, b) => a.startTime - b.startTime);
  const metric = pickMetric(runs, spec);
  const lay = layout ?? resolveLayout(all, spec);
  const coords = (axes: readonly ReportAxis[], r: ReportRun) => axes.map((a) => a.valueOf(r));
  const skipped: ReportTable['skipped'] = [];
  const kept: { run: ReportRun; row: string[]; col: string[]; value: number }[] = [];
  for (const r of runs) {
    const value = r.metrics[metric];
    if (value === undefined || !Number.isFinite(value)) {
      skipped.push({ name: r.name, reason: `no finite ${metric}` });
      continue;
    }
    if (r.status !== 'FINISHED') {
      skipped.push({ name: r.name, reason: `status ${r.status}` });
      continue;
    }
    const row = coords(lay.rows, r);
    const col = coords(lay.cols, r);
    const missing = [...lay.rows, ...lay.cols].filter((_, i) => [...row, ...col][i] === undefined);
    if (missing.length > 0) {
      skipped.push({ name: r.name, reason: `no ${missing.map((a) => a.name).join(', ')}` });
      continue;
    }
    kept.push({ run: r, row: row as string[], col: col as string[], value });
  }
  const percent = spec.percent === 'auto' ? kept.length > 0 && kept.every((k) => k.value >= 0 && k.value <= 1) : spec.percent;
  const rowLevels = orderLevels(lay.rows, kept.map((k) => k.row)).map((v) => v.join(LEVEL_SEPARATOR));
  const colLevels = orderLevels(lay.cols, kept.map((k) => k.col)).map((v) => v.join(LEVEL_SEPARATOR));
  // Replicates in the sweep's declared order (seed 0, 1, 2), not in the order the runs started: a
  // cluster starts array tasks in any order, and the table must read the same as a local sweep's.
  const replicateOf = (k: (typeof kept)[number]) => lay.over.map((a) => a.valueOf(k.run) ?? '?');
  const overRank = new Map(orderLevels(lay.over, kept.map(replicateOf)).map((v, i) => [v.join(LEVEL_SEPARATOR), i]));
  const rank = (k: (typeof kept)[number]) => overRank.get(replicateOf(k).join(LEVEL_SEPARATOR)) ?? Number.MAX_SAFE_INTEGER;
  const cells: ReportCell[] = [];
  for (const row of rowLevels) {
    for (const col of colLevels) {
      const here = kept.filter((k) => k.row.join(LEVEL_SEPARATOR) === row && k.col.join(LEVEL_SEPARATOR) === col).sort((a, b) => rank(a) - rank(b));
      if (here.length === 0) continue;
      const values = here.map((k) => (percent ? k.value * 100 : k.value));
      const replicates = here.map((k) => (lay.over.length > 0 ? replicateOf(k).join(LEVEL_SEPARATOR) : k.run.name));
      const { low, high } = tInterval(values);
      cells.push({ row, col, values, replicates, runs: here.map((k) => k.run.name), n: values.length, ...meanStd(values), ci: { low, high } });
    }
  }
  const baseline = spec.baseline ?? rowLevels[0];
  if (spec.baseline !== undefined && !rowLevels.includes(spec.baseline)) {
    throw new AblateError('report.unknown-baseline', `--baseline '${spec.baseline}' is not a row of the table`, { hint: `rows: ${rowLevels.join(', ')}` });
  }
  const interval = spec.interval ?? 't';
  // Paired by replicate, so only when replicates have a coordinate (`over`), not just a run name.
  if (baseline !== undefined && lay.over.length > 0) {
    for (const c of cells) {
      if (c.row === baseline) continue;
      const ref = cells.find((r) => r.row === baseline && r.col === c.col);
      const delta = ref && pairedDelta(c, ref, baseline, interval, spec.seed ?? 0);
      if (delta) c.delta = delta;
    }
  }
  return {
    metric,
    percent,
    rows: { axes: lay.rows.map((a) => a.name), levels: rowLevels },
    cols: { axes: lay.cols.map((a) => a.name), levels: colLevels },
    over: lay.over.map((a) => a.name),
    std: 'sample',
    baseline,
    interval,
    cells,
    skipped,
    runs: runs.length,
  };
}
