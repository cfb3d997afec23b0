/**
 * The report's input: a generic list of runs (params, tags, one number per metric), whatever
 * recorded them. This module reads them from ablate's local run records; a tracker plugin can
 * produce the same list from its own store.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError } from '../errors.js';
import { isRunDir, readRecord, type RunRecord } from '../tracking/record.js';
import { findRunDirs } from '../tracking/sync.js';

/** One run as the report sees it: params, tags and one number per metric. */
export interface ReportRun {
  id: string;
  name: string;
  /** The experiment the run belongs to (the config's `name`), when the source knows it. */
  experiment?: string;
  parent?: string;
  status: string;
  /** Levels of an axis without a declared order appear in the order runs started. */
  startTime: number;
  params: Record<string, string>;
  tags: Record<string, string>;
  /** metric key → the run's value (per `Aggregate`). */
  metrics: Record<string, number>;
}

/** Which value of a metric's history stands for the run. */
export type Aggregate = 'last' | 'max' | 'min' | 'mean';

export const AGGREGATES: readonly Aggregate[] = ['last', 'max', 'min', 'mean'];

/**
 * The part of a history to aggregate: points with `from ≤ step < to` (either end open). A
 * training diagnostic is read over a phase of the run, e.g. the last quarter of 2000 iterations
 * as `{from: 1500}`.
 */
export interface StepWindow {
  from?: number;
  to?: number;
}

/** `1500:2000`, `1500:` or `:500` → a window; undefined for an empty string. */
export function parseStepWindow(text: string): StepWindow {
  const m = /^\s*(\d*)\s*:\s*(\d*)\s*$/.exec(text);
  if (!m || (m[1] === '' && m[2] === '')) {
    throw new AblateError('report.option', `--steps must be FROM:TO, FROM: or :TO with whole numbers (got '${text}')`, { hint: 'e.g. --steps 1500:2000 for the steps 1500 to 1999' });
  }
  const w: StepWindow = { ...(m[1] !== '' ? { from: Number(m[1]) } : {}), ...(m[2] !== '' ? { to: Number(m[2]) } : {}) };
  if (w.from !== undefined && w.to !== undefined && w.to <= w.from) throw new AblateError('report.option', `--steps ${text} is empty (TO must be above FROM)`);
  return w;
}

/** How a run's value was taken, for a table's caption ("mean over steps 1500–1999"); '' for the plain last value. */
export function describeAggregate(how: Aggregate, steps?: StepWindow): string {
  const range = steps ? ` over steps ${steps.from ?? 0}${steps.to !== undefined ? `–${steps.to - 1}` : ' onwards'}` : '';
  if (how === 'last' && !steps) return '';
  return `${how === 'last' ? 'last value' : how}${range || ' over the run'}`;
}

export function aggregateSeries(points: readonly { step: number; timestamp: number; value: number }[], how: Aggregate, steps?: StepWindow): number {
  const inWindow = steps ? points.filter((p) => (steps.from === undefined || p.step >= steps.from) && (steps.to === undefined || p.step < steps.to)) : points;
  const finite = inWindow.filter((p) => Number.isFinite(p.value));
  // No point in the window: no value (the report lists the run as left out), never -Infinity.
  if (how !== 'last' && finite.length === 0) return NaN;
  if (how === 'max') return Math.max(...finite.map((p) => p.value));
  if (how === 'min') return Math.min(...finite.map((p) => p.value));
  if (how === 'mean') return finite.reduce((a, p) => a + p.value, 0) / finite.length;
  const last = [...inWindow].sort((a, b) => a.step - b.step || a.timestamp - b.timestamp).pop();
  return last ? last.value : NaN;
}

export function fromRecord(rec: RunRecord, how: Aggregate, steps?: StepWindow): ReportRun {
  const metrics: Record<string, number> = {};
  for (const [k, pts] of Object.entries(rec.metrics)) metrics[k] = aggregateSeries(pts, how, steps);
  return { id: rec.id, name: rec.name, experiment: rec.experiment, parent: rec.parent, status: rec.status, startTime: rec.startTime, params: rec.params, tags: rec.tags, metrics };
}

/** Runs from a folder of local records: the sweep's run folder or any folder of runs. */
export function runsFromFolder(dir: string, how: Aggregate, steps?: StepWindow): ReportRun[] {
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
      // Cells whose variant sets its own `output.dir` or `name` land elsewhere: the sweep's
      // sweep.json lists every cell's folder. Either way only a record whose parent is this
      // sweep counts, so a crafted list cannot pull other runs into the table.
      const candidates = [...findRunDirs(path.dirname(own)), ...sweepCellDirs(own).flatMap((d) => findRunDirs(d))];
      for (const d of candidates) {
        const abs = path.resolve(d);
        if (seen.has(abs)) continue;
        seen.add(abs);
        const rec = readRecord(abs);
        if (rec.parent && rootIds.has(rec.parent)) records.push(rec);
      }
    }
  }
  return foldResumes(records).map((r) => fromRecord(r, how, steps));
}

/** The cell run folders a sweep folder's sweep.json lists (none when it has no readable list). */
function sweepCellDirs(sweepDir: string): string[] {
  try {
    const saved = JSON.parse(readFileSync(path.join(sweepDir, 'sweep.json'), 'utf8')) as { cells?: { runDir?: unknown }[] };
    return (saved.cells ?? []).map((c) => c.runDir).filter((d): d is string => typeof d === 'string');
  } catch {
    return [];
  }
}

/** `<run>/resume-NNNNNNN[-k]`: the record a resumed run writes inside its own run folder (-k: another attempt from the same checkpoint). */
const RESUME_DIR = /^resume-\d+(-\d+)?$/;

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
