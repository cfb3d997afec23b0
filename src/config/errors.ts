/**
 * Located config errors. A ConfigError is an AblateError whose `where` comes from the YAML source
 * (or names the `--set` flag), plus notes such as "inherited from ../_base_/x.yaml" that the CLI
 * prints under the code frame.
 */
import { readFileSync } from 'node:fs';
import { AblateError, AblateErrors } from '../errors.js';
import type { Origin } from './origin.js';
import { describeOrigin } from './origin.js';

export class ConfigError extends AblateError {
  /** Extra located lines: where the value was inherited from, which cells of a sweep fail, … */
  readonly notes: string[];
  constructor(code: string, message: string, opts: { origin?: Origin; key?: string; atKey?: boolean; hint?: string; notes?: string[] } = {}) {
    const o = opts.origin;
    const where = o
      ? {
          file: o.file,
          line: opts.atKey && o.keyLine !== undefined ? o.keyLine : o.line,
          column: opts.atKey && o.keyColumn !== undefined ? o.keyColumn : o.column,
          key: opts.key,
        }
      : opts.key !== undefined
        ? { key: opts.key }
        : undefined;
    super(code, message, { where, hint: opts.hint });
    const notes = [...(opts.notes ?? [])];
    // A value from the command line or the environment has no file position: say so.
    if (o && o.kind !== 'file' && o.kind !== 'sweep' && o.kind !== 'ref') notes.unshift(`value set by ${describeOrigin(o)}`);
    if (o && o.kind === 'sweep' && o.flag) notes.unshift(`value set by ${o.flag}`);
    if (o && o.kind === 'ref') notes.unshift(`value came through \${${o.ref}}${o.note ? ` (${o.note})` : ''}`);
    this.notes = notes;
  }
}

/** Throws all collected errors at once (one plain error stays a single error). */
export function throwAll(errors: AblateError[]): void {
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1) throw new AblateErrors(errors, `${errors.length} errors`);
}

const sourceCache = new Map<string, string[]>();

/** The lines of a source file (cached: frames for many errors in one file read it once). */
function sourceLines(file: string): string[] | undefined {
  let lines = sourceCache.get(file);
  if (!lines) {
    try {
      lines = readFileSync(file, 'utf8').split(/\r?\n/);
    } catch {
      return undefined;
    }
    sourceCache.set(file, lines);
  }
  return lines;
}

/** Frame lines longer than this are cut to a window around the column (a minified or hostile file). */
const FRAME_WIDTH = 120;

/** A two-lines-of-context code frame with a caret under the column, like a compiler's. */
export function codeFrame(file: string, line: number, column: number, context = 1): string | undefined {
  const lines = sourceLines(file);
  if (!lines || line < 1 || line > lines.length) return undefined;
  const first = Math.max(1, line - context);
  const last = Math.min(lines.length, line + context);
  const width = String(last).length;
  // One window for every line of the frame, so the caret and the context stay aligned.
  const longest = Math.max(...lines.slice(first - 1, last).map((l) => l.length));
  const start = longest <= FRAME_WIDTH ? 0 : Math.max(0, Math.min(column - 1 - FRAME_WIDTH / 2, longest - FRAME_WIDTH));
  const clip = (text: string) => {
    if (longest <= FRAME_WIDTH) return text;
    const piece = text.slice(start, start + FRAME_WIDTH);
    return `${start > 0 && piece.length > 0 ? '…' : ''}${piece}${text.length > start + FRAME_WIDTH ? '…' : ''}`;
  };
  const caretAt = Math.max(0, column - 1 - start) + (start > 0 ? 1 : 0);
  const out: string[] = [];
  for (let n = first; n <= last; n++) {
    const mark = n === line ? '>' : ' ';
    out.push(`${mark} ${String(n).padStart(width)} | ${clip(lines[n - 1]!)}`);
    if (n === line) out.push(`  ${' '.repeat(width)} | ${' '.repeat(caretAt)}^`);
  }
  return out.join('\n');
}
