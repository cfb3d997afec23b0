/**
 * How a sweep describes its axes to whoever reads its runs later (`ablate report`, a search in
 * a tracker's UI): every cell run carries its coordinate on each axis as the tag `ablate.sweep.<label>`,
 * and the sweep's parent run and every cell run carry the axes themselves (labels, dotted keys,
 * values in the sweep's order, which one is the variant axis) as JSON in `ablate.sweep_axes`.
 * The engine writes these tags and the report reads them; neither loads the other for it.
 */

export interface SweepAxisInfo {
  /** The axis label (the last segment of a grid key, or the variant axis name). */
  label: string;
  /** The dotted config key a grid axis sets (the label itself for the variant axis). */
  key: string;
  /** The axis values in the sweep's order. */
  values: unknown[];
  /** The axis of named variants (`sweep.variants`), not a grid key. */
  variant: boolean;
}

export const SWEEP_AXES_TAG = 'ablate.sweep_axes';
export const SWEEP_COORD_TAG_PREFIX = 'ablate.sweep.';

/** An axis value as text, the way it appears in tags, cell names and report headers. */
export function axisValueText(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

export function encodeSweepAxes(axes: readonly SweepAxisInfo[]): string {
  return JSON.stringify(axes.map((a) => ({ label: a.label, key: a.key, values: a.values, variant: a.variant })));
}

/** The axes from the tag's text; undefined when it is missing or not what `encodeSweepAxes` writes. */
export function decodeSweepAxes(text: string | undefined): SweepAxisInfo[] | undefined {
  if (text === undefined) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(raw)) return undefined;
  const axes: SweepAxisInfo[] = [];
  for (const a of raw) {
    if (typeof a !== 'object' || a === null) return undefined;
    const { label, key, values, variant } = a as Record<string, unknown>;
    if (typeof label !== 'string' || !Array.isArray(values)) return undefined;
    axes.push({ label, key: typeof key === 'string' ? key : label, values, variant: variant === true });
  }
  return axes;
}
