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
  /** Which way is better, for marking the best value per column (default 'higher'). */
  better?: 'higher' | 'lower';
}

/** "semi_ratio (%; each run's mean over steps 1500–1999)": the metric, its unit, how a run's value was taken. */
export function metricLabel(t: ReportTable): string {
  return `${t.metric}${t.percent ? ' (%)' : ''}${t.aggregate ? ` (each run's ${t.aggregate})` : ''}`;
}

/** The best mean per column (ties all count), for marking. */
function bestPerColumn(t: ReportTable, better: 'higher' | 'lower'): Map<string, number> {
  const best = new Map<string, number>();
  for (const c of t.cells) {
    const b = best.get(c.col);
    if (b === undefined || (better === 'higher' ? c.mean > b : c.mean < b)) best.set(c.col, c.mean);
  }
  return best;
}

const signed = (x: number, digits: number) => `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;

/** `+1.2 [+0.3, +2.1]`: a paired difference with its interval. */
export function deltaText(d: NonNullable<ReportCell['delta']>, digits: number): string {
  return Number.isFinite(d.low) ? `${signed(d.mean, digits)} [${signed(d.low, digits)}, ${signed(d.high, digits)}]` : signed(d.mean, digits);
}

export function intervalName(t: ReportTable): string {
  return t.interval === 't' ? '95 % t interval' : '95 % percentile bootstrap interval (10000 resamples)';
}

export function toMarkdown(t: ReportTable, opts: MarkdownOptions = {}): string {
  const digits = opts.digits ?? 1;
  const usual = mode(t.cells.map((c) => c.n));
  const best = bestPerColumn(t, opts.better ?? 'higher');
  const fmt = (c: ReportCell | undefined) => {
    if (!c) return '–';
    let s = c.n > 1 ? `${c.mean.toFixed(digits)} ± ${c.std.toFixed(digits)}` : c.mean.toFixed(digits);
    if (c.n !== usual) s = `${s} (n=${c.n})`;
    return best.get(c.col) === c.mean && t.rows.levels.length > 1 ? `**${s}**` : s;
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
  lines.push(`${metricLabel(t)}, mean ± sample std (n − 1) over ${usual} ${over}${usual === 1 ? '' : 's'} per cell; ${t.runs} runs; best per column in bold (${opts.better ?? 'higher'} is better).`);
  const deltas = t.cells.filter((c) => c.delta);
  if (deltas.length > 0 && t.baseline !== undefined) {
    const others = t.rows.levels.map((r, i) => ({ r, label: rowLabels[i]! })).filter((x) => x.r !== t.baseline);
    const baseLabel = rowLabels[t.rows.levels.indexOf(t.baseline)] ?? t.baseline;
    lines.push('', `Δ to ${baseLabel}, paired by ${over}: mean [${intervalName(t)}]; * the interval excludes 0.`, '');
    lines.push(`| Δ | ${colLabels.join(' | ')} |`);
    lines.push(`|---|${colLabels.map(() => '---:').join('|')}|`);
    for (const { r, label } of others) {
      const cellText = (col: string) => {
        const d = cellAt(t, r, col)?.delta;
        if (!d) return '–';
        return `${deltaText(d, digits)}${d.excludesZero ? ' *' : ''}${d.n !== usual ? ` (n=${d.n})` : ''}`;
      };
      lines.push(`| ${label} | ${t.cols.levels.map(cellText).join(' | ')} |`);
    }
  }
  if (t.skipped.length > 0) lines.push('', `Left out: ${t.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}

function csvField(v: string | number | boolean | undefined): string {
  if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One line per cell: its coordinates, statistics and paired difference. */
export function toCsv(t: ReportTable): string {
  const header = ['row', 'col', 'n', 'mean', 'std', 'ci_low', 'ci_high', 'replicates', 'values', 'baseline', 'delta_n', 'delta_mean', 'delta_low', 'delta_high', 'delta_excludes_zero'];
  const rows = t.cells.map((c) => [
    c.row, c.col, c.n, c.mean, c.std, c.ci.low, c.ci.high, c.replicates.join(';'), c.values.join(';'),
    c.delta?.baseline, c.delta?.n, c.delta?.mean, c.delta?.low, c.delta?.high, c.delta?.excludesZero,
  ].map(csvField).join(','));
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

const TEX_ESCAPES: Record<string, string> = { '\\': '\\textbackslash{}', '~': '\\textasciitilde{}', '^': '\\textasciicircum{}' };

function tex(s: string): string {
  return s.replace(/[\\~^&%$#_{}]/g, (ch) => TEX_ESCAPES[ch] ?? `\\${ch}`);
}

/** A booktabs table: mean ± std per cell, best per column in bold, significant differences marked. */
export function toLatex(t: ReportTable, opts: MarkdownOptions = {}): string {
  const digits = opts.digits ?? 1;
  const best = bestPerColumn(t, opts.better ?? 'higher');
  const rowLabels = levelLabels(t.rows.levels, opts.fractions);
  const colLabels = levelLabels(t.cols.levels, opts.fractions);
  const lines = [
    `% ${metricLabel(t)}: mean $\\pm$ sample std; $^*$ paired difference to ${tex(t.baseline ?? '')} whose ${intervalName(t)} excludes 0`,
    `\\begin{tabular}{l${'r'.repeat(colLabels.length)}}`,
    '\\toprule',
    `${tex(t.rows.axes.join(LEVEL_SEPARATOR))} & ${colLabels.map(tex).join(' & ')} \\\\`,
    '\\midrule',
  ];
  t.rows.levels.forEach((row, i) => {
    const cells = t.cols.levels.map((col) => {
      const c = cellAt(t, row, col);
      if (!c) return '--';
      let s = c.n > 1 ? `${c.mean.toFixed(digits)} $\\pm$ ${c.std.toFixed(digits)}` : c.mean.toFixed(digits);
      if (best.get(col) === c.mean && t.rows.levels.length > 1) s = `\\textbf{${s}}`;
      return c.delta?.excludesZero ? `${s}$^*$` : s;
    });
    lines.push(`${tex(rowLabels[i]!)} & ${cells.join(' & ')} \\\\`);
  });
  lines.push('\\bottomrule', '\\end{tabular}');
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
