/**
 * `ablate report`: the paper-style table (rows = methods, columns = labeled fractions, cells =
 * mean ± std of a metric over seeds) from a sweep's runs, read from local records or from an
 * MLflow server. Which param names the method, the fraction and the seed is configurable; the
 * defaults follow ablate's experiments: the sweep's `method` variant label (tag
 * `ablate.sweep.method`, else param `trainer.type`), `dataset.labeled_fraction` and `seed`.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { MlflowClient, fromKv, type MlflowRun } from './mlflow-client.js';
import { isRunDir, readRecord, type RunRecord } from './record.js';
import { findRunDirs } from './sync.js';
import { RUN_ID_TAG } from './shipper.js';

/** One run as the report sees it: params, tags and one number per metric. */
export interface ReportRun {
  id: string;
  name: string;
  parent?: string;
  status: string;
  /** Rows and columns appear in the order runs started. */
  startTime: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** metric key → the run's value (per `aggregate`). */
  metrics: Record<string, number>;
}

export type Aggregate = 'last' | 'max' | 'min';

export interface ReportSpec {
  /** Where the method name comes from: `params.X`, `tags.X`, or a bare key (params, then tags); first found wins. */
  method: string[];
  fraction: string[];
  seed: string[];
  /** Metric keys to try in order. */
  metric: string[];
  aggregate: Aggregate;
  /** Multiply values by 100 ('auto': when every value is within [0, 1]). */
  percent: boolean | 'auto';
  digits: number;
}

export const DEFAULT_SPEC: ReportSpec = {
  method: ['tags.ablate.sweep.method', 'tags.ablate.method', 'params.method', 'params.trainer.type', 'params.trainer'],
  fraction: ['params.dataset.labeled_fraction', 'tags.ablate.sweep.dataset.labeled_fraction', 'params.data.labeled_fraction', 'params.labeled_fraction', 'params.dataset.train.labeled_fraction'],
  seed: ['params.seed', 'params.experiment.seed', 'params.runtime.seed'],
  metric: ['val/miou', 'val/mIoU', 'eval/miou', 'miou', 'mIoU', 'test/miou'],
  aggregate: 'last',
  percent: 'auto',
  digits: 1,
};

function lookup(run: ReportRun, specs: readonly string[]): string | undefined {
  for (const s of specs) {
    if (s.startsWith('params.') && s.slice(7) in run.params) return run.params[s.slice(7)];
    if (s.startsWith('tags.') && s.slice(5) in run.tags) return run.tags[s.slice(5)];
    if (s in run.params) return run.params[s];
    if (s in run.tags) return run.tags[s];
  }
  return undefined;
}

export interface Cell {
  values: number[];
  mean: number;
  std: number;
  seeds: string[];
}

export interface ReportTable {
  metric: string;
  percent: boolean;
  methods: string[];
  fractions: string[];
  /** cells[method][fraction] */
  cells: Record<string, Record<string, Cell>>;
  /** Runs left out, and why (no metric, no fraction …). */
  skipped: { name: string; reason: string }[];
  runs: number;
}

function aggregateSeries(points: { step: number; timestamp: number; value: number }[], how: Aggregate): number {
  const finite = points.filter((p) => Number.isFinite(p.value));
  if (how === 'max') return Math.max(...finite.map((p) => p.value));
  if (how === 'min') return Math.min(...finite.map((p) => p.value));
  const last = [...points].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp).pop();
  return last ? last.value : NaN;
}

export function fromRecord(rec: RunRecord, how: Aggregate): ReportRun {
  const metrics: Record<string, number> = {};
  for (const [k, pts] of Object.entries(rec.metrics)) metrics[k] = aggregateSeries(pts, how);
  return { id: rec.id, name: rec.name, parent: rec.parent, status: rec.status, startTime: rec.startTime, params: rec.params, tags: rec.tags, metrics };
}

/** mean and sample standard deviation (0 for a single value). */
export function meanStd(values: readonly number[]): { mean: number; std: number } {
  const n = values.length;
  const mean = values.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std };
}

/** Builds the table from runs. Parent runs (those with children in the set) are left out. */
export function buildTable(all: readonly ReportRun[], spec: ReportSpec = DEFAULT_SPEC): ReportTable {
  const parents = new Set(all.map((r) => r.parent).filter((p): p is string => !!p));
  const runs = all.filter((r) => !parents.has(r.id) && r.tags['ablate.sweep'] !== 'parent').sort((a, b) => a.startTime - b.startTime);
  const metric = spec.metric.find((m) => runs.some((r) => m in r.metrics));
  if (!metric) {
    throw new AblateError('report.no-metric', `none of the runs has the metric ${spec.metric.join(' / ')}`, {
      hint: `pick one with --metric; the runs have: ${[...new Set(runs.flatMap((r) => Object.keys(r.metrics)))].slice(0, 20).join(', ') || '(no metrics)'}`,
    });
  }
  const methods: string[] = [];
  const fractions: string[] = [];
  const cells: ReportTable['cells'] = {};
  const skipped: ReportTable['skipped'] = [];
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
    const method = lookup(r, spec.method) ?? 'default';
    const fraction = lookup(r, spec.fraction) ?? '1';
    const seed = lookup(r, spec.seed) ?? r.name;
    if (!methods.includes(method)) methods.push(method);
    if (!fractions.includes(fraction)) fractions.push(fraction);
    const cell = ((cells[method] ??= {})[fraction] ??= { values: [], mean: NaN, std: NaN, seeds: [] });
    cell.values.push(value);
    cell.seeds.push(seed);
  }
  const allValues = Object.values(cells).flatMap((row) => Object.values(row).flatMap((c) => c.values));
  const percent = spec.percent === 'auto' ? allValues.length > 0 && allValues.every((v) => v >= 0 && v <= 1) : spec.percent;
  for (const row of Object.values(cells)) {
    for (const c of Object.values(row)) {
      const { mean, std } = meanStd(c.values.map((v) => (percent ? v * 100 : v)));
      c.mean = mean;
      c.std = std;
    }
  }
  fractions.sort((a, b) => Number(a) - Number(b) || a.localeCompare(b));
  return { metric, percent, methods, fractions, cells, skipped, runs: runs.length };
}

/** `0.125` → `1/8`, `1` → `Full`, anything else as given. */
export function fractionLabel(f: string): string {
  const x = Number(f);
  if (!Number.isFinite(x)) return f;
  if (x === 1) return 'Full';
  const inv = 1 / x;
  if (x > 0 && x < 1 && Math.abs(inv - Math.round(inv)) < 1e-9) return `1/${Math.round(inv)}`;
  return f;
}

export function toMarkdown(t: ReportTable, digits = DEFAULT_SPEC.digits, title?: string): string {
  const counts = Object.values(t.cells).flatMap((r) => Object.values(r).map((c) => c.values.length));
  const usual = mode(counts);
  const fmt = (c: Cell | undefined) => {
    if (!c) return '–';
    const s = c.values.length > 1 ? `${c.mean.toFixed(digits)} ± ${c.std.toFixed(digits)}` : c.mean.toFixed(digits);
    return c.values.length === usual ? s : `${s} (n=${c.values.length})`;
  };
  const lines: string[] = [];
  if (title) lines.push(`### ${title}`, '');
  lines.push(`| Method | ${t.fractions.map(fractionLabel).join(' | ')} |`);
  lines.push(`|---|${t.fractions.map(() => '---:').join('|')}|`);
  for (const m of t.methods) lines.push(`| ${m} | ${t.fractions.map((f) => fmt(t.cells[m]?.[f])).join(' | ')} |`);
  lines.push('');
  lines.push(`${t.metric}${t.percent ? ' (%)' : ''}, mean ± std over ${usual} seed${usual === 1 ? '' : 's'} per cell; ${t.runs} runs.`);
  if (t.skipped.length > 0) lines.push(`Left out: ${t.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}

function mode(xs: number[]): number {
  const c = new Map<number, number>();
  for (const x of xs) c.set(x, (c.get(x) ?? 0) + 1);
  let best = 0;
  let n = -1;
  for (const [x, k] of c) if (k > n) [best, n] = [x, k];
  return best;
}

// ─── sources ──

/** Runs from a folder of local records: the sweep's run folder or any folder of runs. */
export function runsFromFolder(dir: string, how: Aggregate): ReportRun[] {
  const dirs = findRunDirs(dir);
  if (dirs.length === 0) throw new AblateError('report.no-runs', `no run records under ${dir}`, { where: { file: dir } });
  const records = dirs.map((d) => readRecord(d));
  if (isRunDir(dir)) {
    // A sweep's run folder: its cells live beside it (ablate puts cell runs next to the
    // experiment's other runs), so also take the sibling runs whose parent is this sweep's run
    // (or the run of one of its resumptions, recorded in <sweep>/resume-N/).
    const own = path.resolve(dir);
    const rootIds = new Set(records.filter((r) => path.resolve(r.runDir) === own || (path.dirname(path.resolve(r.runDir)) === own && RESUME_DIR.test(path.basename(r.runDir)))).map((r) => r.id));
    if (!records.some((r) => r.parent && rootIds.has(r.parent))) {
      const seen = new Set(records.map((r) => path.resolve(r.runDir)));
      for (const d of findRunDirs(path.dirname(own))) {
        if (seen.has(path.resolve(d))) continue;
        const rec = readRecord(d);
        if (rec.parent && rootIds.has(rec.parent)) records.push(rec);
      }
    }
  }
  return foldResumes(records).map((r) => fromRecord(r, how));
}

/** `<run>/resume-NNNNNNN`: the record a resumed run writes inside its own run folder. */
const RESUME_DIR = /^resume-\d+$/;

/**
 * A resumed run keeps writing into its run folder, with the new process's record in
 * `resume-NNNNNNN/` (ablate never rewrites a finished record). For a table it is one run: its
 * metric histories are joined (a step logged again after the resume replaces the old point, since
 * the resume recomputed it from the checkpoint) and its status is the last attempt's.
 */
export function foldResumes(records: readonly RunRecord[]): RunRecord[] {
  const byDir = new Map(records.map((r) => [path.resolve(r.runDir), r]));
  const resumes = new Map<string, RunRecord[]>();
  const out: RunRecord[] = [];
  for (const r of records) {
    const dir = path.resolve(r.runDir);
    const owner = path.dirname(dir);
    if (RESUME_DIR.test(path.basename(dir)) && byDir.has(owner)) resumes.set(owner, [...(resumes.get(owner) ?? []), r]);
    else out.push(r);
  }
  return out.map((first) => {
    const later = (resumes.get(path.resolve(first.runDir)) ?? []).sort((a, b) => path.basename(a.runDir).localeCompare(path.basename(b.runDir)));
    if (later.length === 0) return first;
    const metrics: Record<string, RunRecord['metrics'][string]> = {};
    for (const rec of [first, ...later]) {
      for (const [key, points] of Object.entries(rec.metrics)) {
        const restart = Math.min(...points.map((p) => p.step));
        metrics[key] = [...(metrics[key] ?? []).filter((p) => p.step < restart), ...points];
      }
    }
    const last = later[later.length - 1] as RunRecord;
    return { ...first, status: last.status, endTime: last.endTime, tags: { ...first.tags, ...last.tags }, metrics, artifacts: [...first.artifacts, ...later.flatMap((r) => r.artifacts)] };
  });
}

async function fromMlflow(client: MlflowClient, run: MlflowRun, metricKeys: string[], how: Aggregate): Promise<ReportRun> {
  const tags = fromKv(run.data.tags);
  const metrics: Record<string, number> = {};
  for (const m of run.data.metrics ?? []) {
    // get/search return only the latest value; other aggregates need the history.
    if (how === 'last' || !metricKeys.includes(m.key)) metrics[m.key] = Number(m.value);
    else metrics[m.key] = aggregateSeries(await client.getMetricHistory(run.info.run_id, m.key), how);
  }
  return {
    id: run.info.run_id,
    name: run.info.run_name ?? run.info.run_id,
    parent: tags['mlflow.parentRunId'],
    status: run.info.status,
    startTime: Number(run.info.start_time ?? 0),
    params: fromKv(run.data.params),
    tags,
    metrics,
  };
}

/**
 * Runs from an MLflow server: `target` is a sweep's parent run (MLflow run id, or ablate's
 * client run id) whose children are read, or an experiment name (all its runs).
 */
export async function runsFromMlflow(trackingUri: string, target: string, spec: ReportSpec): Promise<{ runs: ReportRun[]; title: string }> {
  const client = new MlflowClient(trackingUri, { maxRetries: 3 });
  const exp = await client.getExperimentByName(target);
  if (exp) {
    const runs = await client.searchRuns([exp.experiment_id]);
    return { runs: await Promise.all(runs.map((r) => fromMlflow(client, r, spec.metric, spec.aggregate))), title: `experiment ${target}` };
  }
  if (/^[0-9a-f]{32}$/i.test(target)) {
    let parent: MlflowRun | undefined;
    try {
      parent = await client.getRun(target);
    } catch {
      parent = undefined;
    }
    if (!parent) {
      // Maybe ablate's own run id: search every experiment for the tag.
      const exps = await client.searchRuns(['0'], `tags.\`${RUN_ID_TAG}\` = '${target}'`).catch(() => []);
      parent = exps[0];
    }
    if (parent) {
      const kids = await client.searchRuns([parent.info.experiment_id], `tags.\`mlflow.parentRunId\` = '${parent.info.run_id}'`);
      return { runs: await Promise.all(kids.map((r) => fromMlflow(client, r, spec.metric, spec.aggregate))), title: parent.info.run_name ?? target };
    }
  }
  throw new AblateError('report.not-found', `'${target}' is neither a run folder, an experiment on ${trackingUri}, nor a run id there`, {
    hint: 'pass a sweep run folder, an experiment name, or the MLflow run id of a sweep parent',
  });
}

export function isLocalTarget(target: string): boolean {
  return existsSync(target);
}
