/**
 * Reads one YAML file into plain data plus the source position of every node. YAML here is data
 * only: the core schema, unique keys, and no tags beyond the core ones (`!!str`, `!!int` …). Any
 * other tag is an error, so a config can never construct objects or run code.
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node } from 'yaml';
import type { AblateError } from '../errors.js';
import { ConfigError, throwAll } from './errors.js';
import type { Origin } from './origin.js';
import { joinPath } from './paths.js';

/** Parsed YAML: the data and an origin for every node, keyed by dotted path (raw keys, operators kept). */
export interface SourceLayer {
  value: unknown;
  origins: Map<string, Origin>;
}

const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

interface ParseOptions {
  /** Attributed to every node instead of file positions (for `--set` values). */
  origin?: Origin;
  /** Where dotted keys are allowed (the sweep block). */
  allowDottedKeysUnder?: (path: string) => boolean;
}

/** Parses YAML text; all syntax errors, duplicate keys and forbidden tags are reported together. */
export function parseYaml(text: string, file: string | undefined, opts: ParseOptions = {}): SourceLayer {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false, schema: 'core', strict: true, merge: false });
  const errors: AblateError[] = [];
  const pos = (offset: number) => lineCounter.linePos(offset);
  const originAt = (offset: number | undefined): Origin | undefined => {
    if (opts.origin) return opts.origin;
    if (offset === undefined) return { kind: 'file', file };
    const p = pos(offset);
    return { kind: 'file', file, line: p.line, column: p.col };
  };
  for (const e of doc.errors) {
    const code = e.code === 'DUPLICATE_KEY' ? 'config.duplicate-key' : 'config.yaml-syntax';
    const message = e.code === 'DUPLICATE_KEY' ? 'duplicate key: a key may appear only once in a map' : `YAML syntax error: ${e.message.split('\n')[0]}`;
    errors.push(new ConfigError(code, message, { origin: originAt(e.pos[0]) }));
  }
  if (errors.length === 0) {
    const origins = new Map<string, Origin>();
    const value = toData(doc, doc.contents as Node | null, '', originAt, origins, errors, opts);
    throwAll(errors);
    return { value, origins };
  }
  throwAll(errors);
  throw new Error('unreachable');
}

function toData(
  doc: Document,
  node: Node | null,
  path: string,
  originAt: (offset: number | undefined) => Origin | undefined,
  origins: Map<string, Origin>,
  errors: AblateError[],
  opts: ParseOptions,
  keyOrigin?: Origin,
): unknown {
  if (node === null || node === undefined) {
    if (keyOrigin) origins.set(path, { ...keyOrigin, keyLine: keyOrigin.line, keyColumn: keyOrigin.column });
    return null;
  }
  if (isAlias(node)) {
    const target = node.resolve(doc);
    return toData(doc, (target ?? null) as Node | null, path, originAt, origins, errors, opts, keyOrigin);
  }
  const origin: Origin = { ...originAt(node.range?.[0])! };
  if (keyOrigin && origin.kind === 'file') {
    origin.keyLine = keyOrigin.line;
    origin.keyColumn = keyOrigin.column;
  }
  origins.set(path, origin);
  const tag = (node as { tag?: string }).tag;
  if (tag !== undefined && !CORE_TAGS.has(tag)) {
    errors.push(
      new ConfigError('config.yaml-tag', `YAML tag '${tag}' is not allowed: experiment files are plain data`, {
        origin,
        key: path || undefined,
        hint: 'Remove the tag. Only the core tags (!!str, !!int, !!float, !!bool, !!null, !!map, !!seq) are accepted.',
      }),
    );
    return null;
  }
  if (isScalar(node)) return node.value;
  if (isSeq(node)) return node.items.map((item, i) => toData(doc, item as Node | null, joinPath(path, i), originAt, origins, errors, opts));
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const kOrigin = originAt(keyNode?.range?.[0]) ?? origin;
      if (!isScalar(keyNode) || (typeof keyNode.value !== 'string' && typeof keyNode.value !== 'number')) {
        errors.push(new ConfigError('config.bad-key', 'map keys must be plain names', { origin: kOrigin, key: path || undefined }));
        continue;
      }
      const key = String(keyNode.value);
      const childPath = joinPath(path, key);
      if (key.includes('.') && !(opts.allowDottedKeysUnder?.(path) ?? false)) {
        errors.push(
          new ConfigError('config.dotted-key', `key '${key}' contains '.': nest maps instead (dotted keys are only for sweep axes)`, {
            origin: kOrigin,
            key: childPath,
          }),
        );
        continue;
      }
      out[key] = toData(doc, pair.value as Node | null, childPath, originAt, origins, errors, opts, kOrigin);
    }
    return out;
  }
  return null;
}

const fileCache = new Map<string, { mtimeMs: number; size: number; layer: SourceLayer }>();

/** Dotted keys are fine inside `sweep` (its grid axes and variant diffs are dotted paths). */
export const dottedKeysInSweep = (path: string): boolean => path === 'sweep' || path.startsWith('sweep.');

/** Parses a YAML file (cached by mtime: a sweep or a folder validation reads each base once). */
export function readYamlFile(file: string): SourceLayer {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new ConfigError('config.file-not-found', `file not found: ${file}`, {});
  }
  const cached = fileCache.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.layer;
  const layer = parseYaml(readFileSync(file, 'utf8'), file, { allowDottedKeysUnder: dottedKeysInSweep });
  fileCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, layer });
  return layer;
}
