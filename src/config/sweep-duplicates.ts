/**
 * Two cells of a sweep that resolve to the same config (the same run identity) would run one
 * experiment twice and count it twice in a table; two cells with the same name would share a run
 * folder. Both are errors, located at the sweep entries that make the cells differ as written
 * (the variant's key, or the grid value), so the fix is at hand: remove one, make them differ, or
 * exclude the cell. A grid value repeated verbatim is caught earlier, by parseSweep.
 */
import path from 'node:path';
import type { ConfigState } from './merge.js';
import { ConfigError } from './errors.js';
import { flattenDiff, formatValue, type SweepSpec } from './sweep.js';
import { deepEqual, joinPath } from './paths.js';

export interface ResolvedCell {
  name: string;
  labels: Record<string, unknown>;
  hash: string;
}

/** A sweep entry one cell took on one axis: where it is written and how to name it. */
interface Entry {
  key: string;
  atKey: boolean;
  describe: string;
}

export function duplicateCellErrors(spec: SweepSpec, cells: readonly ResolvedCell[], state: ConfigState): ConfigError[] {
  const errors = new Map<string, ConfigError>();
  const pairs = new Map<string, string[]>();
  const report = (first: ResolvedCell, second: ResolvedCell, sameConfig: boolean) => {
    const differ = spec.axes.filter((a) => !deepEqual(first.labels[a.label], second.labels[a.label]));
    const ours = differ.map((a) => entryOf(spec, a.label, second.labels[a.label]));
    const theirs = differ.map((a) => entryOf(spec, a.label, first.labels[a.label]));
    // Cells that collide for the same reason (the same entries, in every seed of a grid) give one error.
    const id = `${sameConfig}|${[...theirs, ...ours].map((e) => e.key).join('|')}`;
    const pair = `${first.name} and ${second.name}`;
    if (errors.has(id)) {
      pairs.get(id)!.push(pair);
      return;
    }
    pairs.set(id, [pair]);
    const at = ours[0] ?? { key: 'sweep', atKey: false, describe: 'the sweep' };
    const origin = state.nearestOrigin(at.key);
    const message = sameConfig
      ? `sweep cells ${first.name} and ${second.name} resolve to the same config (${first.hash.slice(0, 12)}): ${ours.map((e) => e.describe).join(', ')} ${ours.length === 1 ? 'changes' : 'change'} nothing that ${theirs.map((e) => e.describe).join(', ')} ${theirs.length === 1 ? 'does' : 'do'} not, so the sweep would run one experiment twice`
      : `two sweep cells are both named ${second.name} (their values differ but print the same: ${differ.map((a) => `${a.label} ${JSON.stringify(first.labels[a.label])} and ${JSON.stringify(second.labels[a.label])}`).join('; ')}), so they would share one run folder`;
    const notes = theirs.map((e) => {
      const o = state.nearestOrigin(e.key);
      return `the other cell's ${e.describe}${o?.file ? ` is at ${path.relative(process.cwd(), o.file)}:${(e.atKey ? o.keyLine : undefined) ?? o.line}:${(e.atKey ? o.keyColumn : undefined) ?? o.column}` : ''}`;
    });
    errors.set(id, new ConfigError(sameConfig ? 'sweep.duplicate-cell' : 'sweep.duplicate-name', message, { origin, key: at.key, atKey: at.atKey, hint: hintFor(spec, differ.map((a) => a.label), second, sameConfig), notes }));
  };
  const byHash = new Map<string, ResolvedCell>();
  const byName = new Map<string, ResolvedCell>();
  for (const cell of cells) {
    const sameHash = byHash.get(cell.hash);
    if (sameHash) report(sameHash, cell, true);
    else byHash.set(cell.hash, cell);
    const sameName = byName.get(cell.name);
    if (sameName && sameName.hash !== cell.hash) report(sameName, cell, false);
    else if (!sameName) byName.set(cell.name, cell);
  }
  for (const [id, error] of errors) {
    const list = pairs.get(id)!;
    if (list.length > 1) error.notes.push(`also cells ${list.slice(1, 4).join('; ')}${list.length > 4 ? ` (+${list.length - 4} more pairs)` : ''}`);
  }
  return [...errors.values()];
}

function entryOf(spec: SweepSpec, label: string, value: unknown): Entry {
  const axis = spec.axes.find((a) => a.label === label)!;
  if (axis.isVariant) return { key: `sweep.variants.${String(value)}`, atKey: true, describe: `variant '${String(value)}'` };
  const idx = axis.values.findIndex((v) => deepEqual(v, value));
  return { key: joinPath(joinPath('sweep.grid', axis.key), idx), atKey: false, describe: `grid ${axis.key}=${formatValue(value)}` };
}

/** What to do: most often a variant sets the key a grid axis sweeps, so the grid value is overridden. */
function hintFor(spec: SweepSpec, differ: string[], cell: ResolvedCell, sameConfig: boolean): string {
  if (!sameConfig) return 'write the values so they print differently (a sweep cell is named by its values)';
  const variantAxis = spec.axes.find((a) => a.isVariant);
  const variant = variantAxis ? String(cell.labels[variantAxis.label]) : undefined;
  const gridKeys = spec.axes.filter((a) => !a.isVariant && differ.includes(a.label)).map((a) => a.key);
  if (variant !== undefined && gridKeys.length > 0) {
    const sets = Object.keys(flattenDiff(spec.variants[variant] ?? {}));
    const overridden = gridKeys.filter((k) => sets.some((s) => s === k || k.startsWith(`${s}.`) || s.startsWith(`${k}.`)));
    if (overridden.length > 0) return `variant '${variant}' sets ${overridden.join(', ')} itself, overriding the grid: exclude those cells (sweep.exclude: [{${variantAxis!.label}: ${variant}, …}]) or drop the key from the variant`;
  }
  return 'remove one of the entries or make them differ (values that are written differently but resolve the same count as one)';
}
