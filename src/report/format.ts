/** The report table as Markdown, and how axis values are written in headers. */
import { LEVEL_SEPARATOR, cellAt, type ReportCell, type ReportTable } from './table.js';

/** `0.125` → `1/8` for a number whose reciprocal is a whole number (up to 1/1024); undefined otherwise. */
export function asReciprocal(text: string): string | undefined {
  const x = Number(text);
  if (text.trim() === '' || !Number.isFinite(x) || x <= 0 || x > 1) return undefined;
  if (x === 1) return '1';
  const inv = 1 / x;
  const n = Math.round(inv);
  return n <= 1024 && Math.abs(inv - n) < 1e-9 ? `1/${n}` : undefined;
}

/**
 * Header text for a dimension's levels. With `fractions` 'auto', an axis whose every value is a
 * whole-number reciprocal (0.125, 0.25, 0.5, 1) is written as fractions (1/8, 1/4, 1/2, 1); any
 * other axis as its values are written.
 */
export function levelLabels(levels: readonly string[], fractions: boolean | 'auto' = 'auto'): string[] {
  const parts = levels.map((l) => l.split(LEVEL_SEPARATOR));
  const width = Math.max(0, ...parts.map((p) => p.length));
  const asFraction = Array.from({ length: width }, (_, i) => {
    if (fractions === false) return false;
    const values = parts.map((p) => p[i] ?? '');
    return values.every((v) => asReciprocal(v) !== undefined) && (fractions === true || values.some((v) => Number(v) < 1));
  });
  return parts.map((p) => p.map((v, i) => (asFraction[i] ? (asReciprocal(v) ?? v) : v)).join(LEVEL_SEPARATOR));
}

export interface MarkdownOptions {
  digits?: number;
  title?: string;
  fractions?: boolean | 'auto';
}

export function toMarkdown(t: ReportTable, opts: MarkdownOptions = {}): string {
  const digits = opts.digits ?? 1;
  const usual = mode(t.cells.map((c) => c.n));
  const fmt = (c: ReportCell | undefined) => {
    if (!c) return '–';
    const s = c.n > 1 ? `${c.mean.toFixed(digits)} ± ${c.std.toFixed(digits)}` : c.mean.toFixed(digits);
    return c.n === usual ? s : `${s} (n=${c.n})`;
  };
  const rowLabels = levelLabels(t.rows.levels, opts.fractions);
  const colLabels = levelLabels(t.cols.levels, opts.fractions);
  const corner = `${t.rows.axes.join(LEVEL_SEPARATOR) || 'runs'} \\ ${t.cols.axes.join(LEVEL_SEPARATOR) || ''}`.trim();
  const lines: string[] = [];
  if (opts.title) lines.push(`### ${opts.title}`, '');
  lines.push(`| ${corner} | ${colLabels.join(' | ')} |`);
  lines.push(`|---|${colLabels.map(() => '---:').join('|')}|`);
  t.rows.levels.forEach((row, i) => lines.push(`| ${rowLabels[i]} | ${t.cols.levels.map((col) => fmt(cellAt(t, row, col))).join(' | ')} |`));
  lines.push('');
  const over = t.over.length > 0 ? t.over.join(LEVEL_SEPARATOR) : 'run';
  lines.push(`${t.metric}${t.percent ? ' (%)' : ''}, mean ± sample std over ${usual} ${over}${usual === 1 ? '' : 's'} per cell; ${t.runs} runs.`);
  if (t.skipped.length > 0) lines.push(`Left out: ${t.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}

function mode(xs: readonly number[]): number {
  const c = new Map<number, number>();
  for (const x of xs) c.set(x, (c.get(x) ?? 0) + 1);
  let best = 0;
  let n = -1;
  for (const [x, k] of c) if (k > n) [best, n] = [x, k];
  return best;
}
