/**
 * Merging layers (an `extends` base, the file itself, a sweep cell, `--set` flags) into one config,
 * keeping the provenance of every node. The rules, documented in docs/config-language.md:
 *
 * - maps deep-merge; lists and scalars replace;
 * - `key~:` (empty value) deletes an inherited key; `key+: [..]` appends to an inherited list;
 * - a map with integer keys over a list patches those items (`transforms: {1: {size: 321}}`);
 * - a component whose `type` changes keeps the inherited options that the new plugin also has
 *   (`lr`, `iterations` …) and drops the others once the registry is known (see
 *   `pruneSwitchedComponents`): swapping sgd for adam neither fails on a stale `momentum` nor
 *   silently resets the learning rate or a trainer's iteration count to a schema default.
 */
import { didYouMean } from '../plugin/registry.js';
import type { AblateError } from '../errors.js';
import { ConfigError } from './errors.js';
import type { Origin, Provenance } from './origin.js';
import { cloneJson, isPlainObject, joinPath } from './paths.js';

export interface TypeSwitch {
  from: string;
  inherited: Map<string, Origin | undefined>;
}

/**
 * Provenance by dotted path, with an index of each path's children so that "everything under
 * `a.b`" costs the size of that subtree, not of the whole config: merging replaces nodes one by one,
 * and a scan per replaced node made a 40k-item list take seconds (quadratic in the document).
 */
export class ProvenanceMap extends Map<string, Provenance> {
  /** Parent path → the child paths that have an entry or entries below them. */
  private children: Map<string, Set<string>> | undefined;

  constructor(entries?: Iterable<readonly [string, Provenance]>) {
    super();
    this.children = new Map();
    if (entries) for (const [k, v] of entries) this.set(k, v);
  }

  override set(key: string, value: Provenance): this {
    // Map's constructor calls set before the subclass's fields exist: the index starts empty then.
    if (this.children && !super.has(key)) this.link(key);
    return super.set(key, value);
  }

  override delete(key: string): boolean {
    const had = super.delete(key);
    if (had) this.unlink(key);
    return had;
  }

  override clear(): void {
    super.clear();
    this.children?.clear();
  }

  /**
   * Records `key`, a new path directly below `parent` that has an entry and nothing below `key`
   * yet (an item of a list that was just replaced whole): one index update instead of a walk up.
   */
  setChild(parent: string, key: string, value: Provenance): this {
    let set = this.children!.get(parent);
    if (!set) this.children!.set(parent, (set = new Set()));
    set.add(key);
    return super.set(key, value);
  }

  /** Every path strictly below `path` that has an entry (depth-first, parents before children). */
  keysBelow(path: string): string[] {
    const out: string[] = [];
    const stack = [...(this.children!.get(path) ?? [])];
    while (stack.length > 0) {
      const k = stack.pop()!;
      if (super.has(k)) out.push(k);
      const kids = this.children!.get(k);
      if (kids) for (const c of kids) stack.push(c);
    }
    return out;
  }

  private link(key: string): void {
    // Paths are split at their last dot, as `isUnder` compares them (a dotted sweep-grid key is
    // indexed under its textual prefixes, which is exactly what isUnder considers below it).
    let child = key;
    while (child !== '') {
      const dot = child.lastIndexOf('.');
      const parent = dot < 0 ? '' : child.slice(0, dot);
      let set = this.children!.get(parent);
      if (!set) this.children!.set(parent, (set = new Set()));
      if (set.has(child)) return;
      set.add(child);
      child = parent;
    }
  }

  private unlink(key: string): void {
    // Remove the key from its parent unless something is still recorded below it, then walk up.
    let child = key;
    while (child !== '' && !super.has(child) && !(this.children!.get(child)?.size ?? 0)) {
      this.children!.delete(child);
      const dot = child.lastIndexOf('.');
      const parent = dot < 0 ? '' : child.slice(0, dot);
      const set = this.children!.get(parent);
      set?.delete(child);
      child = parent;
    }
  }
}

/** A config under construction: the data and a provenance entry for every node. */
export class ConfigState {
  public prov: ProvenanceMap;

  constructor(
    public tree: Record<string, unknown> = {},
    prov: Iterable<readonly [string, Provenance]> = [],
    /**
     * Components whose `type` a later layer changed: path → the type it replaced and the options
     * inherited at that moment with their origin (only those may be pruned, and only if no later
     * layer set them again: a typo written next to the new type is still reported).
     */
    public switched: Map<string, TypeSwitch> = new Map(),
  ) {
    this.prov = prov instanceof ProvenanceMap ? prov : new ProvenanceMap(prov);
  }

  /** Provenance entries are never mutated in place, so a shallow copy of the map is a full copy. */
  clone(): ConfigState {
    const switched = new Map([...this.switched].map(([k, v]) => [k, { from: v.from, inherited: new Map(v.inherited) }]));
    return new ConfigState(cloneJson(this.tree), new ProvenanceMap(this.prov), switched);
  }

  originOf(path: string): Origin | undefined {
    return this.prov.get(path)?.origin;
  }

  /** The origin of the nearest node at or above `path` that has one. */
  nearestOrigin(path: string): Origin | undefined {
    let p = path;
    for (;;) {
      const o = this.prov.get(p)?.origin;
      if (o) return o;
      if (p === '') return undefined;
      const dot = p.lastIndexOf('.');
      p = dot < 0 ? '' : p.slice(0, dot);
    }
  }

  setOrigin(path: string, origin: Origin): void {
    const old = this.prov.get(path);
    this.prov.set(path, { origin, overrode: old ? [old.origin, ...old.overrode] : [] });
  }

  /** Forgets the provenance of everything strictly below `path` (it was replaced). */
  dropBelow(path: string, includeSelf = false): void {
    for (const k of this.prov.keysBelow(path)) this.prov.delete(k);
    if (includeSelf) this.prov.delete(path);
  }
}

/** One layer to merge: data with raw keys (operators kept) and the origin of each node. */
export interface Layer {
  value: unknown;
  origins: Map<string, Origin>;
  /** Used for nodes missing from `origins` (a `--set` value has one origin for everything). */
  fallback?: Origin;
}

function originFor(layer: Layer, lp: string): Origin {
  return layer.origins.get(lp) ?? layer.fallback ?? { kind: 'file' };
}

/** Merges `layer` (whose root must be a map) into `state`, at `targetPath` (default: the root). */
export function applyLayer(state: ConfigState, layer: Layer, errors: AblateError[], opts: { skipRootKeys?: readonly string[] } = {}): void {
  if (layer.value === null || layer.value === undefined) return;
  if (!isPlainObject(layer.value)) {
    errors.push(new ConfigError('config.not-a-map', 'an experiment file must be a map of keys (model:, dataset:, …)', { origin: originFor(layer, '') }));
    return;
  }
  let src = layer.value;
  if (opts.skipRootKeys?.length) {
    src = { ...src };
    for (const k of opts.skipRootKeys) delete src[k];
  }
  applyMap(state, state.tree, src, '', '', layer, errors);
}

/** Inside a sweep variant the operators belong to the variant's diff: they are kept as written. */
function isLiteral(tPath: string): boolean {
  return tPath.startsWith('sweep.variants.');
}

/**
 * `__proto__` is not data: assigned on a plain object it reaches Object.prototype (`--set
 * __proto__.x=1` would give every object in the process an `x`). Every layer passes here.
 */
function dropProtoKeys(src: Record<string, unknown>, tPath: string, lPath: string, layer: Layer, errors: AblateError[]): Record<string, unknown> {
  const bad = Object.keys(src).filter((k) => k.split('.').some((seg) => seg.replace(/[~+]$/, '') === '__proto__'));
  if (bad.length === 0) return src;
  const kept = { ...src };
  for (const k of bad) {
    delete kept[k];
    errors.push(new ConfigError('config.bad-key', `'__proto__' cannot be a key`, { origin: originFor(layer, joinPath(lPath, k)), atKey: true, key: tPath || undefined }));
  }
  return kept;
}

function applyMap(state: ConfigState, dst: Record<string, unknown>, src: Record<string, unknown>, tPath: string, lPath: string, layer: Layer, errors: AblateError[]): void {
  src = dropProtoKeys(src, tPath, lPath, layer, errors);
  if (isLiteral(tPath)) {
    for (const key of Object.keys(src)) assign(state, dst, key, joinPath(tPath, key), joinPath(lPath, key), src[key], layer, errors);
    return;
  }
  // Deletions first, so `key~:` and `key:` in one map mean "replace the inherited value entirely".
  for (const key of Object.keys(src)) {
    if (key.length < 2 || !key.endsWith('~')) continue;
    const name = key.slice(0, -1);
    const tp = joinPath(tPath, name);
    const lp = joinPath(lPath, key);
    const origin = originFor(layer, lp);
    if (src[key] !== null) {
      errors.push(new ConfigError('config.delete-with-value', `'${name}~' deletes '${tp}'; leave its value empty`, { origin, key: tp, hint: `write \`${name}~:\` (or \`--set ${tp}~\`)` }));
      continue;
    }
    if (!Object.prototype.hasOwnProperty.call(dst, name)) {
      const near = didYouMean(name, Object.keys(dst));
      errors.push(
        new ConfigError('config.delete-missing', `cannot delete '${tp}': nothing inherited sets it`, {
          origin,
          atKey: true,
          key: tp,
          hint: near ? `did you mean '${near}~'?` : undefined,
        }),
      );
      continue;
    }
    delete dst[name];
    state.dropBelow(tp, true);
  }
  for (const key of Object.keys(src)) {
    if (key.length >= 2 && key.endsWith('~')) continue;
    const lp = joinPath(lPath, key);
    if (key.length >= 2 && key.endsWith('+')) {
      const name = key.slice(0, -1);
      appendList(state, dst, name, joinPath(tPath, name), lp, src[key], layer, errors);
      continue;
    }
    assign(state, dst, key, joinPath(tPath, key), lp, src[key], layer, errors);
  }
}

function appendList(state: ConfigState, dst: Record<string, unknown>, name: string, tp: string, lp: string, sv: unknown, layer: Layer, errors: AblateError[]): void {
  const origin = originFor(layer, lp);
  if (!Array.isArray(sv)) {
    errors.push(new ConfigError('config.append-non-list', `'${name}+' appends to a list, so its value must be a list (found ${kindOf(sv)})`, { origin, key: tp, hint: `write \`${name}+: [item]\`` }));
    return;
  }
  const cur = dst[name];
  if (cur !== undefined && cur !== null && !Array.isArray(cur)) {
    errors.push(new ConfigError('config.append-non-list', `cannot append to '${tp}': the inherited value is a ${kindOf(cur)}, not a list`, { origin, key: tp, notes: inheritedNote(state, tp) }));
    return;
  }
  const list = Array.isArray(cur) ? cur : [];
  dst[name] = list;
  state.setOrigin(tp, origin);
  const start = list.length;
  sv.forEach((item, i) => assign(state, list, start + i, joinPath(tp, start + i), joinPath(lp, i), item, layer, errors));
}

function assign(state: ConfigState, dst: Record<string, unknown> | unknown[], key: string | number, tp: string, lp: string, sv: unknown, layer: Layer, errors: AblateError[]): void {
  const container = dst as Record<string | number, unknown>;
  const cur = container[key];
  const origin = originFor(layer, lp);
  if (isPlainObject(sv) && isPlainObject(cur)) {
    if (typeChanges(cur, sv)) {
      const prev = state.switched.get(tp);
      const inherited = new Map(prev?.inherited);
      for (const k of Object.keys(cur)) if (k !== 'type') inherited.set(k, state.originOf(joinPath(tp, k)));
      state.switched.set(tp, { from: prev?.from ?? (cur.type as string), inherited });
    }
    state.setOrigin(tp, origin);
    applyMap(state, cur, sv, tp, lp, layer, errors);
    return;
  }
  if (isPlainObject(sv) && Array.isArray(cur) && Object.keys(sv).length > 0 && Object.keys(sv).every((k) => /^\d+$/.test(k))) {
    // Patch list items by index.
    state.setOrigin(tp, origin);
    for (const k of Object.keys(sv)) {
      const idx = Number(k);
      if (idx >= cur.length) {
        errors.push(new ConfigError('config.index-out-of-range', `'${tp}' has ${cur.length} item(s); there is no index ${idx} to patch`, { origin: originFor(layer, joinPath(lp, k)), atKey: true, key: joinPath(tp, k) }));
        continue;
      }
      assign(state, cur, idx, joinPath(tp, idx), joinPath(lp, k), sv[k], layer, errors);
    }
    return;
  }
  // Replace: forget what was below, keep the chain of the node itself.
  state.dropBelow(tp);
  state.setOrigin(tp, origin);
  if (isPlainObject(sv)) {
    const fresh: Record<string, unknown> = {};
    container[key] = fresh;
    applyMap(state, fresh, sv, tp, lp, layer, errors);
  } else if (Array.isArray(sv)) {
    const fresh: unknown[] = [];
    container[key] = fresh;
    // Nothing is recorded below the list any more (dropBelow above): a scalar item needs no look
    // at what it replaced, only its own entry (a 250k-item list merges in one pass).
    for (let i = 0; i < sv.length; i++) {
      const item: unknown = sv[i];
      const itemLp = joinPath(lp, i);
      if (item !== null && typeof item === 'object') assign(state, fresh, i, joinPath(tp, i), itemLp, item, layer, errors);
      else {
        fresh[i] = item;
        state.prov.setChild(tp, joinPath(tp, i), { origin: originFor(layer, itemLp), overrode: [] });
      }
    }
  } else {
    container[key] = sv;
  }
}

/** Two component configs with different plugin types (the inherited options are pruned later). */
function typeChanges(cur: Record<string, unknown>, next: Record<string, unknown>): boolean {
  return typeof cur.type === 'string' && typeof next.type === 'string' && cur.type !== next.type;
}

export function kindOf(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'list';
  if (isPlainObject(v)) return 'map';
  return typeof v;
}

function inheritedNote(state: ConfigState, path: string): string[] {
  const o = state.originOf(path);
  return o?.file ? [`the inherited value was set at ${o.file}:${o.line ?? '?'}:${o.column ?? '?'}`] : [];
}
