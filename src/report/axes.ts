/**
 * Which runs share a table row, a column, or a cell: the report's layout, built from the sweep's
 * own axes. A sweep tags each cell run with its coordinates and its axes (see
 * tracking/sweep-axes.ts); the defaults lay the table out as the variant axis (rows) × the first
 * other axis (columns), replicated over a `seed` axis, with any further axis joining the rows.
 * Any axis can also be named outright, or be a run param or tag (`params.X`, `tags.X`).
 */
import { AblateError } from '../errors.js';
import { didYouMean } from '../plugin/registry.js';
import { SWEEP_AXES_TAG, SWEEP_COORD_TAG_PREFIX, axisValueText, decodeSweepAxes, type SweepAxisInfo } from '../tracking/sweep-axes.js';
import type { ReportRun } from './runs.js';

/** One axis as the report reads it off a run. */
export interface ReportAxis {
  /** The name shown in headers (the sweep label, or the param/tag key as given). */
  name: string;
  valueOf(run: ReportRun): string | undefined;
  /** Declared value order (the sweep's), as text; levels not listed follow in order of appearance. */
  order?: string[];
}

export interface Layout {
  rows: ReportAxis[];
  cols: ReportAxis[];
  /** Replicates: runs that differ only here are averaged (and paired by this value). */
  over: ReportAxis[];
}

export interface LayoutRequest {
  rows?: readonly string[];
  cols?: readonly string[];
  over?: readonly string[];
}

/**
 * The sweep's axes as the runs record them: the `ablate.sweep_axes` tag (the sweep's parent run
 * first), else the axis labels found in the cells' `ablate.sweep.<label>` tags (in order of
 * appearance, the first axis of names taken for the variant axis).
 */
export function sweepAxesOf(runs: readonly ReportRun[]): SweepAxisInfo[] {
  const ordered = [...runs].sort((a, b) => Number(b.tags['ablate.sweep'] === 'parent') - Number(a.tags['ablate.sweep'] === 'parent'));
  for (const r of ordered) {
    const axes = decodeSweepAxes(r.tags[SWEEP_AXES_TAG]);
    if (axes && axes.length > 0) return axes;
  }
  const found = new Map<string, unknown[]>();
  for (const r of [...runs].sort((a, b) => a.startTime - b.startTime)) {
    for (const [k, v] of Object.entries(r.tags)) {
      if (!k.startsWith(SWEEP_COORD_TAG_PREFIX)) continue;
      const label = k.slice(SWEEP_COORD_TAG_PREFIX.length);
      const values = found.get(label) ?? [];
      if (!values.includes(v)) values.push(v);
      found.set(label, values);
    }
  }
  // Runs of a sweep from before the axes tag: the axis of names (not numbers) is taken for the
  // variant axis, as variants are named and grid values mostly numbers.
  const axes = [...found.entries()].map(([label, values]) => ({ label, key: label, values, variant: false }));
  const named = axes.find((a) => a.values.some((v) => typeof v !== 'string' || v.trim() === '' || !Number.isFinite(Number(v))));
  if (named) named.variant = true;
  return axes;
}

function sweepAxis(a: SweepAxisInfo): ReportAxis {
  return { name: a.label, valueOf: (r) => r.tags[`${SWEEP_COORD_TAG_PREFIX}${a.label}`], order: a.values.map(axisValueText) };
}

/** `params.X`, `tags.X`, or a bare key (params first, then tags). */
function recordedAxis(name: string): ReportAxis {
  const valueOf = name.startsWith('params.')
    ? (r: ReportRun) => r.params[name.slice(7)]
    : name.startsWith('tags.')
      ? (r: ReportRun) => r.tags[name.slice(5)]
      : (r: ReportRun) => r.params[name] ?? r.tags[name];
  return { name, valueOf };
}

const isSeedAxis = (a: SweepAxisInfo) => a.label === 'seed' || a.key === 'seed' || a.key.endsWith('.seed');

/** The layout for a request; what it leaves open comes from the sweep's axes. */
export function resolveLayout(runs: readonly ReportRun[], req: LayoutRequest): Layout {
  const axes = sweepAxesOf(runs);
  const byName = (name: string, flag: string): SweepAxisInfo | ReportAxis => {
    const hit = axes.find((a) => a.label === name || a.key === name);
    if (hit) return hit;
    const axis = recordedAxis(name);
    if (runs.some((r) => axis.valueOf(r) !== undefined)) return axis;
    const near = didYouMean(name, axes.map((a) => a.label));
    throw new AblateError('report.unknown-axis', `${flag} names '${name}', which is neither a sweep axis nor a param or tag of any run`, {
      hint: `${near ? `did you mean '${near}'? ` : ''}${axes.length > 0 ? `the sweep's axes: ${axes.map((a) => a.label).join(', ')}; ` : ''}a run param or tag is named params.<key> or tags.<key>`,
    });
  };
  const taken = new Set<SweepAxisInfo>();
  const pick = (names: readonly string[] | undefined, flag: string): (SweepAxisInfo | ReportAxis)[] | undefined => {
    if (names === undefined || names.length === 0) return undefined;
    return names.map((n) => {
      const a = byName(n, flag);
      if ('variant' in a) {
        if (taken.has(a)) throw new AblateError('report.axis-twice', `axis '${a.label}' is named twice among --rows, --cols and --over`);
        taken.add(a);
      }
      return a;
    });
  };
  const rows = pick(req.rows, '--rows');
  const cols = pick(req.cols, '--cols');
  const over = pick(req.over, '--over');
  const free = () => axes.filter((a) => !taken.has(a));
  const claim = (a: SweepAxisInfo | undefined) => (a ? (taken.add(a), [a]) : []);

  const overAxes = over ?? claim(free().find(isSeedAxis));
  const rowAxes = rows ?? claim(free().find((a) => a.variant) ?? free().find((a) => !isSeedAxis(a)));
  const colAxes = cols ?? claim(free().find((a) => !a.variant && !isSeedAxis(a)));
  // Axes nobody named: averaging over them would mix different experiments, so they join the
  // rows when the rows were left to the defaults, and are an error otherwise.
  const left = free();
  if (left.length > 0) {
    if (rows !== undefined) {
      throw new AblateError('report.axis-unplaced', `the sweep's axis ${left.map((a) => `'${a.label}'`).join(', ')} is in none of --rows, --cols, --over`, {
        hint: 'name every sweep axis in one of them (each takes a comma list, e.g. --rows method,lr)',
      });
    }
    rowAxes.push(...left);
  }
  const toAxis = (a: SweepAxisInfo | ReportAxis): ReportAxis => ('variant' in a ? sweepAxis(a) : a);
  return { rows: rowAxes.map(toAxis), cols: colAxes.map(toAxis), over: overAxes.map(toAxis) };
}
