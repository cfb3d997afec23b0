/**
 * File paths in component options. A relative path is relative to the file that wrote it (like
 * `extends:` and `plugins:`), a `--set` or environment value is relative to the current directory,
 * and a plugin's own default is relative to the experiment. Plugins mark such options with
 * `format: 'path'` in their option schema; they keep resolving them against `ctx.baseDir` (the
 * experiment's folder), so after merging every relative path is rewritten here to the same file
 * seen from that folder. The canonical config therefore keeps portable relative paths, and a
 * saved config reloaded with `LoadOptions.baseDir` (a sweep cell, a resume) is left as it is.
 */
import path from 'node:path';
import type { JsonSchema } from '../plugin/define.js';
import type { PluginKind } from '../plugin/kinds.js';
import type { PluginRegistry } from '../plugin/registry.js';
import { LIST_SLOTS } from '../plugin/slots.js';
import type { ConfigState } from './merge.js';
import type { Origin } from './origin.js';
import { getPath, isPlainObject, joinPath } from './paths.js';

/** The JSON Schema `format` that marks an option naming a file or folder. */
export const PATH_FORMAT = 'path';

/** Where one rebased path option came from (for error hints and `ablate explain`). */
export interface PathSource {
  /** The text as written. */
  written: string;
  /** The value in the resolved config (relative to the experiment's folder, or absolute). */
  value: string;
  /** The folder the written text is relative to. */
  from: string;
  origin: Origin;
}

export interface RebaseContext {
  /** The top-level file (absolute). */
  mainFile: string;
  /** The folder the resolved config's relative paths are relative to (`ctx.baseDir`). */
  baseDir: string;
  /** The folder `--set` and environment values are relative to (default: process.cwd()). */
  cwd?: string;
  /** Strings that were exactly one `${a.b}` reference before resolution: path → `a.b`. */
  wholeRefs: ReadonlyMap<string, string>;
}

/** Paths of strings that are exactly one `${a.b}` reference (not `${env:..}`); call before resolving. */
export function findWholeReferences(tree: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (v: unknown, p: string): void => {
    if (typeof v === 'string') {
      const m = /^\$\{\s*([\w-]+(?:\.[\w-]+)*)\s*\}$/.exec(v);
      if (m) out.set(p, m[1]!);
    } else if (Array.isArray(v)) v.forEach((x, i) => walk(x, joinPath(p, i)));
    else if (isPlainObject(v)) for (const k of Object.keys(v)) walk(v[k], joinPath(p, k));
  };
  walk(tree, '');
  return out;
}

/** Absolute (POSIX or Windows), a URL (`s3://...`, `file:...`), or a home path: never rebased. */
function isRebasable(value: string): boolean {
  if (value === '' || value.includes('${')) return false;
  if (path.isAbsolute(value) || path.win32.isAbsolute(value)) return false;
  if (/^[A-Za-z][A-Za-z0-9+.-]+:/.test(value)) return false;
  return !value.startsWith('~');
}

/**
 * Rewrites every relative `format: 'path'` string in the components of `state` so that it is
 * relative to `ctx.baseDir`, and records where each came from. Values written in the top-level
 * file (or anything else already relative to `ctx.baseDir`) keep their exact text.
 */
export function rebasePaths(state: ConfigState, registry: PluginRegistry, ctx: RebaseContext): Map<string, PathSource> {
  const sources = new Map<string, PathSource>();
  const cwd = ctx.cwd ?? process.cwd();
  const mainFile = path.resolve(ctx.mainFile);
  const fileFolder = (file: string | undefined): string => (!file || path.resolve(file) === mainFile ? ctx.baseDir : path.dirname(file));

  /** The folder a node's text is relative to; undefined = the experiment's folder by convention. */
  const folderOf = (key: string, depth = 0): string | undefined => {
    const o = state.nearestOrigin(key);
    if (!o) return undefined;
    switch (o.kind) {
      case 'file':
      case 'sweep':
        return fileFolder(o.file);
      case 'set':
        return cwd;
      case 'env':
        // A reference's own default is text of the file (or flag) that wrote it; a real environment
        // value comes from the shell, like a --set flag.
        if (o.note === 'default in the reference' && o.file) return fileFolder(o.file);
        return cwd;
      case 'ref': {
        // `${a.b}` as the whole value copies a.b's text, so it is relative to wherever a.b was written.
        const target = ctx.wholeRefs.get(key);
        if (target !== undefined && depth < 16) return folderOf(target, depth + 1);
        return o.file ? fileFolder(o.file) : o.flag ? cwd : undefined;
      }
      case 'default':
        return undefined;
    }
  };

  const rebase = (key: string, value: string): void => {
    if (sources.has(key) || !isRebasable(value)) return;
    const from = folderOf(key);
    const origin = state.nearestOrigin(key);
    if (from === undefined || !origin) return;
    const rel = path.relative(ctx.baseDir, path.resolve(from, value)).split(path.sep).join('/') || '.';
    const out = path.resolve(from) === path.resolve(ctx.baseDir) ? value : rel;
    sources.set(key, { written: value, value: out, from, origin });
    if (out === value) return;
    setString(state, key, out);
    const prov = state.prov.get(key);
    const note = `written ${JSON.stringify(value)}, relative to ${origin.kind === 'set' || (origin.kind === 'env' && from === cwd) ? 'the current directory' : 'that file'}; rebased onto the experiment's folder`;
    if (prov) state.prov.set(key, { ...prov, origin: { ...prov.origin, note: prov.origin.note ? `${prov.origin.note}; ${note}` : note } });
  };

  visitPathOptions(state.tree, registry, rebase);
  return sources;
}

/**
 * Calls `visit(key, value)` for every string option marked `format: 'path'` in the components of
 * `tree` (slots, map slots, and nested components the schemas declare with `componentSchema`).
 */
export function visitPathOptions(tree: Record<string, unknown>, registry: PluginRegistry, visit: (key: string, value: string) => void): void {
  const visitComponent = (node: unknown, key: string, kind: PluginKind): void => {
    if (!isPlainObject(node) || typeof node.type !== 'string' || !registry.has(kind, node.type)) return;
    walk(registry.get(kind, node.type).options, node, key);
  };
  const walk = (schema: JsonSchema | undefined, value: unknown, key: string): void => {
    if (!isPlainObject(schema) || value === undefined) return;
    const marker = schema['x-ablate-component'];
    if (typeof marker === 'string') {
      visitComponent(value, key, marker as PluginKind);
      return;
    }
    if (typeof value === 'string' && schema.format === PATH_FORMAT) visit(key, value);
    for (const branch of [...asList(schema.anyOf), ...asList(schema.oneOf), ...asList(schema.allOf)]) walk(branch, value, key);
    if (isPlainObject(value)) {
      const props = isPlainObject(schema.properties) ? (schema.properties as Record<string, JsonSchema>) : {};
      const extra = isPlainObject(schema.additionalProperties) ? (schema.additionalProperties as JsonSchema) : undefined;
      for (const k of Object.keys(value)) walk(props[k] ?? extra, value[k], joinPath(key, k));
    } else if (Array.isArray(value) && isPlainObject(schema.items)) {
      value.forEach((item, i) => walk(schema.items as JsonSchema, item, joinPath(key, i)));
    }
  };
  for (const [slot, spec] of registry.slots()) visitComponent(tree[slot], slot, spec.kind);
  for (const [slot, spec] of registry.mapSlots()) {
    const map = tree[slot];
    if (isPlainObject(map)) for (const name of Object.keys(map)) visitComponent(map[name], joinPath(slot, name), spec.kind);
  }
  for (const [slot, spec] of Object.entries(LIST_SLOTS)) {
    const list = tree[slot];
    if (Array.isArray(list)) list.forEach((item, i) => visitComponent(item, joinPath(slot, i), spec.kind));
  }
}

function asList(v: unknown): JsonSchema[] {
  return Array.isArray(v) ? (v.filter(isPlainObject) as JsonSchema[]) : [];
}

function setString(state: ConfigState, key: string, value: string): void {
  const dot = key.lastIndexOf('.');
  const parent = getPath(state.tree, dot < 0 ? '' : key.slice(0, dot)).value;
  const last = key.slice(dot + 1);
  if (Array.isArray(parent)) parent[Number(last)] = value;
  else if (isPlainObject(parent)) parent[last] = value;
}

/**
 * A sentence for error hints: how a path option's value was read, e.g. "'model.pretrained' was
 * written '../../w.safetensors' in experiments/_base_/models/m.yaml:16:15, relative to that file".
 */
export function describePathSource(key: string, s: PathSource, rel: (file: string) => string = (f) => path.relative(process.cwd(), f) || '.'): string {
  const o = s.origin;
  const at = o.file ? `${rel(o.file)}${o.line !== undefined ? `:${o.line}:${o.column ?? 1}` : ''}` : undefined;
  const where = o.kind === 'set' ? `by ${o.flag ?? '--set'}` : o.kind === 'env' && o.note !== 'default in the reference' ? `by env ${o.env}${at ? ` (read at ${at})` : ''}` : at ? `in ${at}` : '';
  return `'${key}' was written ${JSON.stringify(s.written)}${where ? ` ${where}` : ''}, relative to ${rel(s.from) === '.' ? 'the current directory' : rel(s.from)}`;
}

/**
 * The hint for an error a plugin reported at `key` (e.g. a missing file): how the path options it
 * concerns were written. The option itself, or, for a `*missing*` error, every path option of the
 * same component (a missing list file under `dataset.root` is about the root).
 */
export function pathHint(paths: Readonly<Record<string, PathSource>> | undefined, key: string, code: string): string | undefined {
  if (!paths) return undefined;
  const component = (k: string) => k.split('.').slice(0, k.startsWith('losses.') || k.startsWith('metrics.') ? 2 : 1).join('.');
  const keys = Object.keys(paths).filter((k) => k === key || (code.includes('missing') && component(k) === component(key)));
  if (keys.length === 0) return undefined;
  return `${keys.map((k) => describePathSource(k, paths[k]!)).join('; ')}.`;
}
