/**
 * Older spellings of list slots, still read: `tracker: {type: local}` is the one-element list
 * `trackers: [{type: local}]`. Applied to the merged config (after `extends`, sweep cells and
 * `--set`), so an old experiment that extends a base written with the new key keeps working:
 * when both spellings are present, the one written by the later layer wins (a `--set` flag over a
 * file, an experiment over the base it extends), as any other override would.
 */
import type { AblateError } from '../errors.js';
import { ConfigError } from './errors.js';
import { isUnder } from './paths.js';
import type { ConfigState } from './merge.js';
import type { Origin } from './origin.js';
import { LIST_SLOTS } from '../plugin/slots.js';

/**
 * `files` is the merge order (bases first, the experiment last); anything not in it (a sweep
 * variant file, a cell's grid value, a flag) was layered on top of all of them.
 */
export function adoptFormerSpellings(state: ConfigState, files: readonly string[], errors: AblateError[]): void {
  for (const [slot, spec] of Object.entries(LIST_SLOTS)) {
    const old = spec.formerly;
    if (!old || state.tree[old] === undefined) continue;
    const value = state.tree[old];
    delete state.tree[old];
    const oldRank = latestLayer(state, old, files);
    const newRank = state.tree[slot] !== undefined ? latestLayer(state, slot, files) : -2;
    if (newRank === oldRank) {
      // Written side by side: which one was meant cannot be told.
      errors.push(new ConfigError('config.both-spellings', `'${old}:' and '${slot}:' are both set by the same layer`, {
        origin: state.originOf(old),
        key: old,
        atKey: true,
        hint: `'${old}: {...}' is the former spelling of '${slot}: [{...}]'; keep one of them`,
      }));
      continue;
    }
    if (newRank > oldRank) {
      // The list was written later: it overrides the former spelling.
      dropPath(state, old);
      continue;
    }
    dropPath(state, slot);
    state.tree[slot] = value === null ? [] : [value];
    movePath(state, old, `${slot}.0`);
    const origin = state.originOf(`${slot}.0`);
    if (origin) state.setOrigin(slot, { ...origin, note: `written as '${old}:' (read as a one-element '${slot}:' list)` });
  }
}

/** How late the latest layer that wrote at or under `path` is, in merge order. */
function latestLayer(state: ConfigState, path: string, files: readonly string[]): number {
  let rank = -1;
  for (const [key, prov] of state.prov) if (key === path || isUnder(key, path)) rank = Math.max(rank, layerRank(prov.origin, files));
  return rank;
}

function layerRank(o: Origin, files: readonly string[]): number {
  if (o.kind === 'set') return files.length + 2;
  if (o.kind === 'default') return -1;
  const i = o.file ? files.indexOf(o.file) : -1;
  return i >= 0 ? i : files.length + 1;
}

function dropPath(state: ConfigState, path: string): void {
  for (const key of [...state.prov.keys()]) if (key === path || isUnder(key, path)) state.prov.delete(key);
  for (const key of [...state.switched.keys()]) if (key === path || isUnder(key, path)) state.switched.delete(key);
}

function movePath(state: ConfigState, from: string, to: string): void {
  const rename = (key: string) => (key === from ? to : `${to}${key.slice(from.length)}`);
  for (const [key, prov] of [...state.prov]) {
    if (key !== from && !isUnder(key, from)) continue;
    state.prov.delete(key);
    state.prov.set(rename(key), prov);
  }
  for (const [key, sw] of [...state.switched]) {
    if (key !== from && !isUnder(key, from)) continue;
    state.switched.delete(key);
    state.switched.set(rename(key), sw);
  }
}
