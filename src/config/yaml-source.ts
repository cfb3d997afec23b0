/**
 * Reads one YAML file into plain data plus the source position of every node. YAML here is data
 * only: the core schema, unique keys, and no tags beyond the core ones (`!!str`, `!!int` …). Any
 * other tag is an error, so a config can never construct objects or run code.
 */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument, isAlias, isMap, isPair, isScalar, isSeq, type Document, type Node, type YAMLError } from 'yaml';
import type { AblateError } from '../errors.js';
import { ConfigError, throwAll } from './errors.js';
import type { Origin } from './origin.js';
import { joinPath } from './paths.js';

/** Parsed YAML: the data and an origin for every node, keyed by dotted path (raw keys, operators kept). */
export interface SourceLayer {
  value: unknown;
  origins: Map<string, Origin>;
  /**
   * Errors in single nodes that `value` leaves out (a duplicate or dotted key, a forbidden tag, an
   * alias without anchor): the rest of the file is still data, so it is merged and validated and
   * these are reported with the file's other errors. A syntax error throws instead.
   */
  problems: AblateError[];
}

const CORE_TAGS = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

interface ParseOptions {
  /** Attributed to every node instead of file positions (for `--set` values). */
  origin?: Origin;
  /** Where dotted keys are allowed (the sweep block). */
  allowDottedKeysUnder?: (path: string) => boolean;
}

/**
 * Bounds on what a small file may expand to. An alias (`*a`) copies its anchor's node, so nested
 * aliases grow exponentially: 355 bytes with 5 levels of 9 aliases expand to 59,049 copies (the
 * "billion laughs" attack; the `yaml` package's `maxAliasCount` guards its own toJS the same way).
 * Real experiment files use a handful of aliases and a few levels of nesting.
 */
export const YAML_LIMITS = {
  /** Alias dereferences in one file, counting the aliases met inside an alias's expansion. */
  maxAliasCount: 1000,
  /** Nodes plus string characters produced through aliases in one file. */
  maxAliasSize: 1_000_000,
  /** Maps and lists nested in one another (deeper data would exhaust the stack downstream). */
  maxDepth: 100,
};

/**
 * Parses YAML text. All syntax errors are thrown together (the text is then not data); errors in
 * single nodes are returned as `problems` beside the rest of the data.
 */
export function parseYaml(text: string, file: string | undefined, opts: ParseOptions = {}): SourceLayer {
  const lineCounter = new LineCounter();
  // Duplicate keys are found while converting (toData): the parser's own check compares each key
  // with every earlier one of its map, quadratic in the map's size (20k keys: seconds).
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, prettyErrors: false, schema: 'core', strict: true, merge: false });
  const errors: AblateError[] = [];
  const pos = (offset: number) => lineCounter.linePos(offset);
  const originAt = (offset: number | undefined): Origin | undefined => {
    if (opts.origin) return opts.origin;
    if (offset === undefined) return { kind: 'file', file };
    const p = pos(offset);
    return { kind: 'file', file, line: p.line, column: p.col };
  };
  for (const e of doc.errors) errors.push(yamlError(e, originAt(e.pos[0])));
  if (errors.length === 0) {
    const origins = new Map<string, Origin>();
    const walk: Walk = { doc, originAt, origins, errors, opts, aliases: 0, aliasSize: 0 };
    try {
      const value = toData(walk, doc.contents as Node | null, '', 0);
      return { value, origins, problems: errors };
    } catch (e) {
      if (e instanceof LimitExceeded) throw e.error;
      throw e;
    }
  }
  throwAll(errors);
  throw new Error('unreachable');
}

function yamlError(e: YAMLError, origin: Origin | undefined): ConfigError {
  // The parser recurses per nesting level and reports running out of stack as a syntax error.
  if (/call stack/i.test(e.message)) {
    return new ConfigError('config.too-deep', `YAML nesting too deep (more than ${YAML_LIMITS.maxDepth} levels of maps and lists)`, { origin, hint: 'experiment files nest a few levels; flatten the data or load it from a file' });
  }
  return new ConfigError('config.yaml-syntax', `YAML syntax error: ${e.message.split('\n')[0]}`, { origin });
}

/** Thrown to stop the walk at once when a bound is exceeded (the error is the only one reported). */
class LimitExceeded extends Error {
  constructor(readonly error: ConfigError) {
    super(error.message);
  }
}

interface Walk {
  doc: Document;
  originAt: (offset: number | undefined) => Origin | undefined;
  origins: Map<string, Origin>;
  errors: AblateError[];
  opts: ParseOptions;
  /** Alias dereferences so far, and the size of what they produced (see YAML_LIMITS). */
  aliases: number;
  aliasSize: number;
}

/**
 * Converts a node to plain data. `viaAlias` counts the aliases this node is reached through: their
 * output is charged to the alias budget, so an expansion stops as soon as it exceeds it.
 */
function toData(w: Walk, node: Node | null, path: string, depth: number, keyOrigin?: Origin, viaAlias = 0): unknown {
  const { doc, originAt, origins, errors, opts } = w;
  if (viaAlias > 0) {
    w.aliasSize += 1 + (isScalar(node) && typeof node.value === 'string' ? node.value.length : 0);
    if (w.aliasSize > YAML_LIMITS.maxAliasSize) throw aliasLimit(w, node, path, `expand to more than ${YAML_LIMITS.maxAliasSize.toLocaleString('en')} nodes and characters`);
  }
  if (node === null || node === undefined) {
    if (keyOrigin) origins.set(path, { ...keyOrigin, keyLine: keyOrigin.line, keyColumn: keyOrigin.column });
    return null;
  }
  if (isAlias(node)) {
    if (++w.aliases > YAML_LIMITS.maxAliasCount) throw aliasLimit(w, node, path, `are dereferenced more than ${YAML_LIMITS.maxAliasCount} times`);
    const target = node.resolve(doc);
    if (target === undefined) {
      // The parser leaves an alias without an anchor (before it) as null; a typo should not be.
      errors.push(new ConfigError('config.yaml-alias', `alias *${node.source} has no anchor &${node.source} before it`, { origin: originAt(node.range?.[0]), key: path || undefined, hint: 'an alias repeats a node marked earlier in the same file with &name' }));
      return null;
    }
    return toData(w, target as Node, path, depth, keyOrigin, viaAlias + 1);
  }
  // A fresh object per node (a key position is added below); only the shared --set origin is copied.
  const origin: Origin = opts.origin ? { ...opts.origin } : originAt(node.range?.[0])!;
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
  if ((isSeq(node) || isMap(node)) && depth >= YAML_LIMITS.maxDepth) {
    throw new LimitExceeded(
      new ConfigError('config.too-deep', `YAML nesting too deep (more than ${YAML_LIMITS.maxDepth} levels of maps and lists)`, {
        origin,
        key: path || undefined,
        hint: 'experiment files nest a few levels; flatten the data or load it from a file',
      }),
    );
  }
  if (isSeq(node)) return node.items.map((item, i) => toData(w, item as Node | null, joinPath(path, i), depth + 1, undefined, viaAlias));
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
      if (Object.prototype.hasOwnProperty.call(out, key)) {
        errors.push(new ConfigError('config.duplicate-key', `duplicate key '${key}': a key may appear only once in a map`, { origin: kOrigin, key: childPath, hint: 'remove one of them (within a file a later value does not override an earlier one)' }));
        continue;
      }
      if (key.split('.').includes('__proto__')) {
        // As a plain object's key it would replace the object's prototype instead of adding a key.
        errors.push(new ConfigError('config.bad-key', `'__proto__' cannot be a key`, { origin: kOrigin, key: path || undefined }));
        continue;
      }
      if (key.includes('.') && !(opts.allowDottedKeysUnder?.(path) ?? false)) {
        errors.push(
          new ConfigError('config.dotted-key', `key '${key}' contains '.': nest maps instead (dotted keys are only for sweep axes)`, {
            origin: kOrigin,
            key: childPath,
          }),
        );
        continue;
      }
      out[key] = toData(w, pair.value as Node | null, childPath, depth + 1, kOrigin, viaAlias);
    }
    return out;
  }
  return null;
}

function aliasLimit(w: Walk, node: Node | null, path: string, what: string): LimitExceeded {
  return new LimitExceeded(
    new ConfigError('config.alias-limit', `YAML aliases ${what}: the file expands far beyond its size`, {
      origin: w.originAt(node?.range?.[0]),
      key: path || undefined,
      hint: 'nested aliases multiply (an alias of a list of aliases …); write the data out or use fewer levels',
    }),
  );
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
  if (!st.isFile()) throw new ConfigError('config.not-a-file', `${file} is ${st.isDirectory() ? 'a directory' : 'not a regular file'}, not a YAML file`, { origin: { kind: 'file', file } });
  const cached = fileCache.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.layer;
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new ConfigError('config.unreadable', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { origin: { kind: 'file', file } });
  }
  const layer = parseYaml(decodeUtf8(bytes, file), file, { allowDottedKeysUnder: dottedKeysInSweep });
  // Errors get notes added as they are reported (the sweep cells they occur in): never shared.
  if (layer.problems.length === 0) fileCache.set(file, { mtimeMs: st.mtimeMs, size: st.size, layer });
  return layer;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The file's text; bytes that are not UTF-8 are an error naming the first bad byte (a silent
 * U+FFFD would change a name or a path without a word).
 */
export function decodeUtf8(bytes: Uint8Array, file: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const before = new TextDecoder('utf-8').decode(bytes.subarray(0, offset));
    const lines = before.split('\n');
    const origin: Origin = { kind: 'file', file, line: lines.length, column: lines[lines.length - 1]!.length + 1 };
    const hex = bytes[offset]?.toString(16).padStart(2, '0') ?? '??';
    return throwNotUtf8(offset, hex, origin);
  }
}

function throwNotUtf8(offset: number, hex: string, origin: Origin): never {
  throw new ConfigError('config.not-utf8', `invalid UTF-8 at byte offset ${offset} (byte 0x${hex}): experiment files must be UTF-8 text`, {
    origin,
    hint: 'save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8`)',
  });
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
function firstInvalidUtf8(b: Uint8Array): number {
  let i = 0;
  while (i < b.length) {
    const c = b[i]!;
    const n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;
    if (n < 0) return i;
    for (let k = 1; k <= n; k++) {
      const d = b[i + k];
      if (d === undefined || (d & 0xc0) !== 0x80) return i;
    }
    // Overlong three/four-byte forms, surrogates and code points past U+10FFFF.
    const d1 = b[i + 1] ?? 0;
    if ((c === 0xe0 && d1 < 0xa0) || (c === 0xed && d1 > 0x9f) || (c === 0xf0 && d1 < 0x90) || (c === 0xf4 && d1 > 0x8f)) return i;
    i += n + 1;
  }
  return b.length;
}
