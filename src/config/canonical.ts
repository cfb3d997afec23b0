/**
 * The canonical resolved form (keys sorted at every level, defaults applied, `extends` and `sweep`
 * removed) and its sha256, which is the run identity: the same experiment written differently
 * (other key order, values inherited instead of repeated, a default spelled out) has the same hash.
 * Also the flattened parameter view (run params) and a semantic diff of two resolved configs.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';
import { deepEqual, isPlainObject, joinPath } from './paths.js';

export function sortKeysDeep(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeysDeep);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeysDeep(v[k]);
    return out;
  }
  return v;
}

export function canonicalize(config: Record<string, unknown>): { canonical: Record<string, unknown>; json: string; yaml: string; hash: string } {
  const canonical = sortKeysDeep(config) as Record<string, unknown>;
  // The hash is over canonical JSON: stable across YAML library versions and formatting options.
  const json = JSON.stringify(canonical);
  const hash = createHash('sha256').update(json).digest('hex');
  let yaml: string | undefined;
  // YAML text costs more than the rest of resolving a sweep cell: made on first use only.
  return {
    canonical,
    json,
    hash,
    get yaml() {
      return (yaml ??= stringify(canonical, { lineWidth: 0 }));
    },
  };
}

/**
 * Dotted leaf → value. Lists of scalars stay one value (`[6, 12]`); lists of maps are indexed
 * (`dataset.transforms.0.type`); empty maps and lists are kept as leaves so nothing disappears.
 */
export function flattenValues(config: unknown, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  if (isPlainObject(config)) {
    const keys = Object.keys(config);
    if (keys.length === 0 && prefix !== '') out[prefix] = {};
    for (const k of keys) flattenValues(config[k], joinPath(prefix, k), out);
  } else if (Array.isArray(config) && config.some((x) => x !== null && typeof x === 'object')) {
    config.forEach((x, i) => flattenValues(x, joinPath(prefix, i), out));
  } else if (prefix !== '') out[prefix] = config;
  return out;
}

/**
 * The flattened config as run parameters (the local record's params, which trackers ship): the
 * same dotted keys as `flattenValues` and `ablate diff`, so a sweep axis, a diff line and a param
 * name agree. A value is one string, written one way because trackers compare params as strings
 * and keep them write-once: strings as written, numbers and booleans as YAML writes them
 * (`0.00025`, `true`), lists of scalars as compact JSON (`[6,12]`: a list is one hyperparameter),
 * empty maps as `{}`, and null as `None`, the string Python's `str(None)` gives (what Python
 * tracking clients log), so a param left unset reads the same as one logged by a Python script.
 */
export function flattenParams(config: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  // In the config's own key order (a resolved config's is sorted already).
  for (const [k, v] of Object.entries(flattenValues(config))) out[k] = paramString(v);
  return out;
}

function paramString(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

export interface ConfigDiff {
  changed: { key: string; a: unknown; b: unknown }[];
  added: { key: string; value: unknown }[];
  removed: { key: string; value: unknown }[];
}

/** A semantic diff of two resolved configs over their flattened leaves, sorted by key. */
export function diffConfigs(a: Record<string, unknown>, b: Record<string, unknown>): ConfigDiff {
  const fa = flattenValues(a);
  const fb = flattenValues(b);
  const diff: ConfigDiff = { changed: [], added: [], removed: [] };
  for (const key of [...new Set([...Object.keys(fa), ...Object.keys(fb)])].sort()) {
    const inA = Object.prototype.hasOwnProperty.call(fa, key);
    const inB = Object.prototype.hasOwnProperty.call(fb, key);
    if (inA && inB) {
      if (!deepEqual(fa[key], fb[key])) diff.changed.push({ key, a: fa[key], b: fb[key] });
    } else if (inB) diff.added.push({ key, value: fb[key] });
    else diff.removed.push({ key, value: fa[key] });
  }
  return diff;
}
