/**
 * How the CLI prints errors: a user mistake (AblateError) as compiler-style located messages with
 * a code frame, never a stack; anything else as a bug, with its stack.
 */
import path from 'node:path';
import { AblateError, AblateErrors } from '../errors.js';
import { codeFrame, ConfigError } from '../config/errors.js';

export function rel(file: string): string {
  const r = path.relative(process.cwd(), file);
  return r === '' ? '.' : r.startsWith('..') && path.isAbsolute(file) && r.split(path.sep).filter((s) => s === '..').length > 2 ? file : r;
}

/** One error as text: `file:line:col: error[code]: message`, the frame, notes and the hint. */
export function formatAblateError(e: AblateError): string {
  const w = e.where;
  const loc = w?.file ? `${rel(w.file)}${w.line ? `:${w.line}:${w.column ?? 1}` : ''}: ` : '';
  const lines = [`${loc}error[${e.code}]: ${e.message}`];
  if (w?.key) lines.push(`  key: ${w.key}`);
  if (w?.file && w.line) {
    const frame = codeFrame(w.file, w.line, w.column ?? 1);
    if (frame) lines.push(frame.replace(/^/gm, '  '));
  }
  if (e instanceof ConfigError) for (const n of e.notes) lines.push(`  note: ${n}`);
  if (e.hint) lines.push(`  hint: ${e.hint}`);
  return lines.join('\n');
}

/** Every error of an AblateErrors (or the single error), separated by blank lines, plus a count. */
export function formatError(e: unknown): string {
  if (e instanceof AblateErrors) {
    return `${e.errors.map(formatAblateError).join('\n\n')}\n\n${e.errors.length} error${e.errors.length === 1 ? '' : 's'}`;
  }
  if (e instanceof AblateError) return formatAblateError(e);
  const err = e as Error;
  return `ablate: unexpected error (a bug in ablate, please report it):\n${err?.stack ?? String(e)}`;
}

export function exitCodeOf(e: unknown): number {
  return e instanceof AblateError ? e.exitCode : 1;
}

/** Errors as JSON for `--json` consumers. */
export function errorsAsJson(e: unknown): unknown[] {
  const list = e instanceof AblateErrors ? e.errors : e instanceof AblateError ? [e] : [];
  return list.map((x) => ({ code: x.code, message: x.message, ...x.where, hint: x.hint, notes: x instanceof ConfigError ? x.notes : undefined }));
}
