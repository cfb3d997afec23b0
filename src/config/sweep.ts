/**
 * Sweeps are data. A `sweep:` block holds
 *   grid:     {dotted.key: [v1, v2, ...], ...}   cartesian product over the axes
 *   variants: {name: diff, ...}                  named diffs (dotted keys or nested maps, with the
 *                                                 same `key+` / `key~` operators as files)
 *   variant_axis: method                          the label of the variants axis (default `variant`)
 *   exclude:  [{axis-or-label: value, ...}, ...] a cell matching every entry of one item is dropped
 * Each cell is named from its diff (`labeled_fraction=0.125,method=adv-semi,seed=1`: axis labels are
 * the last segment of the dotted key unless that is ambiguous), sorted by label.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import type { AblateError } from '../errors.js';
import { didYouMean } from '../plugin/registry.js';
import { ConfigError } from './errors.js';
import type { Layer } from './merge.js';
import type { ConfigState } from './merge.js';
import type { Origin } from './origin.js';
import { deepEqual, isPlainObject, joinPath } from './paths.js';

export interface SweepAxis {
  /** The dotted key the axis sets, or the variant axis label. */
  key: string;
  label: string;
  values: unknown[];
  isVariant: boolean;
}

export interface SweepSpec {
  axes: SweepAxis[];
  /** Variant name → its diff, as written. */
  variants: Record<string, Record<string, unknown>>;
  exclude: Record<string, unknown>[];
}

export interface SweepCellPlan {
  name: string;
  /** The cell's coordinates, by label (`{labeled_fraction: 0.125, method: 'adv-semi'}`). */
  labels: Record<string, unknown>;
  /** What the cell changes, as dotted keys (grid axes, then the variant's keys). */
  diff: Record<string, unknown>;
  /**
   * Files a variant `extends` (absolute, in order): merged, with their own extends chains, onto the
   * base before the cell's layers, so a variant can be a whole method file (`{extends: adv.yaml}`).
   */
  files: string[];
  layers: Layer[];
}

/** Reads and checks the `sweep` block (already removed from the config by the caller). */
export function parseSweep(raw: unknown, state: ConfigState, errors: AblateError[]): SweepSpec | undefined {
  const at = (p: string) => state.nearestOrigin(p);
  if (!isPlainObject(raw)) {
    errors.push(new ConfigError('sweep.invalid', 'sweep must be a map with grid:, variants: and/or exclude:', { origin: at('sweep'), key: 'sweep' }));
    return undefined;
  }
  const known = ['grid', 'variants', 'exclude', 'variant_axis'];
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) {
      const near = didYouMean(k, known);
      errors.push(new ConfigError('config.unknown-key', `unknown key '${k}' in sweep`, { origin: at(`sweep.${k}`), atKey: true, key: `sweep.${k}`, hint: `${near ? `did you mean '${near}'? ` : ''}sweep keys: ${known.join(', ')}` }));
    }
  }
  const axes: SweepAxis[] = [];
  const grid = raw.grid ?? {};
  if (!isPlainObject(grid)) errors.push(new ConfigError('sweep.invalid', 'sweep.grid must be a map of dotted keys to lists of values', { origin: at('sweep.grid'), key: 'sweep.grid' }));
  else {
    for (const [key, values] of Object.entries(grid)) {
      const p = joinPath('sweep.grid', key);
      if (!Array.isArray(values) || values.length === 0) {
        errors.push(new ConfigError('sweep.invalid', `grid axis '${key}' must be a non-empty list of values`, { origin: at(p), key: p }));
        continue;
      }
      // A repeated value gives two identical cells: the same run twice, under one name.
      const firstIndex = values.map((v) => values.findIndex((w) => deepEqual(v, w)));
      const repeats = firstIndex.map((first, i) => [first, i] as const).filter(([first, i]) => first !== i);
      for (const [first, i] of repeats) {
        errors.push(
          new ConfigError('sweep.duplicate-value', `grid axis '${key}' lists ${formatValue(values[i])} twice (items ${first} and ${i}): the sweep would have identical cells`, {
            origin: at(joinPath(p, i)),
            key: joinPath(p, i),
            hint: 'remove the repeated value',
          }),
        );
      }
      axes.push({ key, label: key, values: values.filter((_, i) => firstIndex[i] === i), isVariant: false });
    }
  }
  const variants: Record<string, Record<string, unknown>> = {};
  if (raw.variants !== undefined) {
    if (!isPlainObject(raw.variants)) errors.push(new ConfigError('sweep.invalid', 'sweep.variants must be a map of names to diffs', { origin: at('sweep.variants'), key: 'sweep.variants' }));
    else {
      for (const [name, diff] of Object.entries(raw.variants)) {
        if (diff !== null && !isPlainObject(diff)) {
          errors.push(new ConfigError('sweep.invalid', `variant '${name}' must be a map of keys to change`, { origin: at(`sweep.variants.${name}`), key: `sweep.variants.${name}` }));
          continue;
        }
        variants[name] = diff ?? {};
        if (isPlainObject(diff) && diff.extends !== undefined) checkVariantExtends(diff.extends, `sweep.variants.${name}.extends`, state, errors);
      }
      const label = typeof raw.variant_axis === 'string' ? raw.variant_axis : 'variant';
      if (Object.keys(variants).length > 0) axes.push({ key: label, label, values: Object.keys(variants), isVariant: true });
    }
  }
  // Short labels: the last segment of each grid key, unless two axes would share one.
  const last = (k: string) => k.slice(k.lastIndexOf('.') + 1);
  for (const a of axes) {
    if (a.isVariant) continue;
    const short = last(a.key);
    if (axes.filter((b) => (b.isVariant ? b.label : last(b.key)) === short).length === 1) a.label = short;
  }
  axes.sort((a, b) => a.label.localeCompare(b.label));
  const exclude: Record<string, unknown>[] = [];
  if (raw.exclude !== undefined) {
    if (!Array.isArray(raw.exclude)) errors.push(new ConfigError('sweep.invalid', 'sweep.exclude must be a list of partial cells', { origin: at('sweep.exclude'), key: 'sweep.exclude' }));
    else
      raw.exclude.forEach((item, i) => {
        const p = `sweep.exclude.${i}`;
        if (!isPlainObject(item)) {
          errors.push(new ConfigError('sweep.invalid', 'each exclude entry is a map of axis → value', { origin: at(p), key: p }));
          return;
        }
        const normalized: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(item)) {
          const axis = axes.find((a) => a.label === k || a.key === k);
          if (!axis) {
            const near = didYouMean(k, axes.map((a) => a.label));
            errors.push(new ConfigError('sweep.unknown-axis', `exclude names '${k}', which is not a sweep axis`, { origin: at(joinPath(p, k)), atKey: true, key: joinPath(p, k), hint: `${near ? `did you mean '${near}'? ` : ''}axes: ${axes.map((a) => a.label).join(', ')}` }));
            continue;
          }
          if (!axis.values.some((x) => deepEqual(x, v))) {
            errors.push(new ConfigError('sweep.exclude-never-matches', `exclude ${axis.label}=${formatValue(v)} never matches: the axis takes ${axis.values.map(formatValue).join(', ')}`, { origin: at(joinPath(p, k)), key: joinPath(p, k) }));
            continue;
          }
          normalized[axis.label] = v;
        }
        exclude.push(normalized);
      });
  }
  if (axes.length === 0) errors.push(new ConfigError('sweep.empty', 'sweep has no grid axes and no variants', { origin: at('sweep'), key: 'sweep' }));
  return { axes, variants, exclude };
}

/** The cells of a sweep, in a stable order (axes by label, values in written order). */
export function planCells(spec: SweepSpec, state: ConfigState): SweepCellPlan[] {
  let combos: Record<string, unknown>[] = [{}];
  for (const axis of spec.axes) combos = combos.flatMap((c) => axis.values.map((v) => ({ ...c, [axis.label]: v })));
  const cells: SweepCellPlan[] = [];
  for (const labels of combos) {
    if (spec.exclude.some((ex) => Object.keys(ex).length > 0 && Object.entries(ex).every(([k, v]) => deepEqual(labels[k], v)))) continue;
    const diff: Record<string, unknown> = {};
    const layers: Layer[] = [];
    const files: string[] = [];
    const name = spec.axes.map((a) => `${a.label}=${formatValue(labels[a.label])}`).join(',');
    for (const axis of spec.axes) {
      const v = labels[axis.label];
      if (axis.isVariant) {
        const vname = v as string;
        diff[axis.label] = vname;
        const { extends: ext, ...variant } = spec.variants[vname]!;
        files.push(...variantFiles(ext, `sweep.variants.${vname}.extends`, state));
        Object.assign(diff, ext === undefined ? {} : { extends: ext }, flattenDiff(variant));
        layers.push(diffLayer(variant, `sweep.variants.${vname}`, state, { kind: 'sweep', note: `variant ${vname}` }));
      } else {
        diff[axis.key] = v;
        const idx = axis.values.findIndex((x) => deepEqual(x, v));
        const origin: Origin = { ...(state.nearestOrigin(`sweep.grid.${axis.key}.${idx}`) ?? {}), kind: 'sweep', note: `grid ${axis.key}=${formatValue(v)}` };
        layers.push({ value: nest(axis.key, v), origins: new Map(), fallback: origin });
      }
    }
    cells.push({ name, labels, diff, files, layers });
  }
  return cells;
}

/** A variant's `extends` entries must name existing files (checked once, located at the entry). */
function checkVariantExtends(ext: unknown, statePath: string, state: ConfigState, errors: AblateError[]): void {
  const entries = Array.isArray(ext) ? ext.map((spec, i) => ({ spec, at: joinPath(statePath, i) })) : [{ spec: ext, at: statePath }];
  const resolved = variantFiles(ext, statePath, state);
  let k = 0;
  for (const { spec, at } of entries) {
    const origin = state.nearestOrigin(at);
    if (typeof spec !== 'string' || spec.length === 0) {
      errors.push(new ConfigError('config.bad-extends', `extends entries must be file paths (found ${JSON.stringify(spec)})`, { origin, key: at }));
      continue;
    }
    const target = resolved[k++]!;
    const st = statSync(target, { throwIfNoEntry: false });
    if (!st) errors.push(new ConfigError('config.extends-not-found', `extends '${spec}': file not found (${target})`, { origin, key: at, hint: 'paths in extends are relative to the file that lists them' }));
    else if (st.isDirectory()) errors.push(new ConfigError('config.extends-not-a-file', `extends '${spec}': ${target} is a directory, not a YAML file`, { origin, key: at }));
  }
}

/** A variant's `extends` (one path or a list), resolved against the file that wrote the variant. */
function variantFiles(ext: unknown, statePath: string, state: ConfigState): string[] {
  if (ext === undefined || ext === null) return [];
  const specs = Array.isArray(ext) ? ext : [ext];
  const from = state.originOf(statePath)?.file ?? state.nearestOrigin(statePath)?.file;
  const dir = from ? path.dirname(from) : process.cwd();
  return specs.filter((s): s is string => typeof s === 'string' && s.length > 0).map((s) => path.resolve(dir, s));
}

function nest(dotted: string, value: unknown): Record<string, unknown> {
  const segs = dotted.split('.');
  let v: unknown = value;
  for (let i = segs.length - 1; i >= 0; i--) v = { [segs[i]!]: v };
  return v as Record<string, unknown>;
}

/** A variant diff as a merge layer: dotted keys expanded, every node keeping its source position. */
function diffLayer(diff: Record<string, unknown>, statePath: string, state: ConfigState, base: Origin): Layer {
  const origins = new Map<string, Origin>();
  const value: Record<string, unknown> = {};
  const visit = (src: unknown, sp: string, lp: string) => {
    const o = state.originOf(sp);
    origins.set(lp, { ...(o ?? {}), ...base });
    if (isPlainObject(src)) for (const [k, v] of Object.entries(src)) visit(v, joinPath(sp, k), joinPath(lp, k));
    else if (Array.isArray(src)) src.forEach((v, i) => visit(v, joinPath(sp, i), joinPath(lp, i)));
  };
  for (const [k, v] of Object.entries(diff)) {
    const segs = k.split('.');
    // Never walk into a prototype (the merge reports the key; see dropProtoKeys in merge.ts).
    if (segs.includes('__proto__')) continue;
    let dst = value;
    for (const s of segs.slice(0, -1)) {
      if (!isPlainObject(dst[s])) dst[s] = {};
      dst = dst[s] as Record<string, unknown>;
    }
    const leaf = segs[segs.length - 1]!;
    dst[leaf] = isPlainObject(v) && isPlainObject(dst[leaf]) ? { ...(dst[leaf] as object), ...v } : v;
    visit(v, joinPath(statePath, k), k);
  }
  return { value, origins, fallback: { ...(state.originOf(statePath) ?? {}), ...base } };
}

/** A variant's changes as dotted keys (`trainer.type: supervised`, `discriminator~: null`). */
export function flattenDiff(diff: Record<string, unknown>, prefix = ''): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(diff)) {
    const p = joinPath(prefix, k);
    if (isPlainObject(v) && Object.keys(v).length > 0 && !('type' in v)) Object.assign(out, flattenDiff(v, p));
    else out[p] = v;
  }
  return out;
}

/** Scalars as written; lists and maps in compact flow style. */
export function formatValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || typeof v !== 'object') return String(v);
  return JSON.stringify(v).replace(/"([^"]+)":/g, '$1:').replace(/"/g, '');
}
