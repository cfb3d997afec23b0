/**
 * The report's plot, written as SVG by hand (no charting dependency): the metric against the
 * column levels, one line per row, error bars the 95 % t interval of each cell's mean; series sit
 * side by side around each column so that overlapping intervals stay visible. `toPng` rasterises
 * the same SVG with sharp.
 */
import { levelLabels, metricLabel } from './format.js';
import { LEVEL_SEPARATOR, cellAt, type ReportTable } from './table.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick step (1, 2 or 5 × 10^k) giving about `n` ticks over [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

export function toSvg(t: ReportTable, title = 'ablate report', fractions: boolean | 'auto' = 'auto'): string {
  const W = 760;
  const H = 460;
  const m = { left: 70, right: 190, top: 50, bottom: 60 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const cells = t.cells;
  const cols = t.cols.levels;
  const colLabels = levelLabels(cols, fractions);
  const rowLabels = levelLabels(t.rows.levels, fractions);
  const low = (c: (typeof cells)[number]) => (Number.isFinite(c.ci.low) ? c.ci.low : c.mean);
  const high = (c: (typeof cells)[number]) => (Number.isFinite(c.ci.high) ? c.ci.high : c.mean);
  let lo = Math.min(...cells.map(low));
  let hi = Math.max(...cells.map(high));
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) [lo, hi] = [0, 1];
  if (hi - lo < 1e-9) [lo, hi] = [lo - 1, hi + 1];
  const pad = (hi - lo) * 0.1;
  const ticks = niceTicks(lo - pad, hi + pad);
  const y0 = Math.min(lo - pad, ticks[0]!);
  const y1 = Math.max(hi + pad, ticks[ticks.length - 1]!);
  const inset = 30; // keeps the first and last markers off the axes
  const X = (i: number) => m.left + (cols.length === 1 ? pw / 2 : inset + (i * (pw - 2 * inset)) / (cols.length - 1));
  // Each series shifted a little, centred on the column, so equal means do not hide each other.
  const series = t.rows.levels.length;
  const offset = (k: number) => (k - (series - 1) / 2) * Math.min(8, 40 / Math.max(1, series));
  const Y = (v: number) => m.top + ph - ((v - y0) / (y1 - y0)) * ph;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="DejaVu Sans, Arial, sans-serif" font-size="13">`);
  out.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  out.push(`<text x="${m.left + pw / 2}" y="28" text-anchor="middle" font-size="16" font-weight="bold">${esc(title)}</text>`);
  // grid and y axis
  for (const v of ticks) {
    if (v < y0 || v > y1) continue;
    out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${m.left - 8}" y="${(Y(v) + 4).toFixed(1)}" text-anchor="end">${v}</text>`);
  }
  out.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + ph}" stroke="#333"/>`);
  out.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${m.top + ph}" y2="${m.top + ph}" stroke="#333"/>`);
  colLabels.forEach((label, i) => {
    out.push(`<line x1="${X(i)}" x2="${X(i)}" y1="${m.top + ph}" y2="${m.top + ph + 5}" stroke="#333"/>`);
    out.push(`<text x="${X(i)}" y="${m.top + ph + 22}" text-anchor="middle">${esc(label)}</text>`);
  });
  out.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">${esc(t.cols.axes.join(LEVEL_SEPARATOR))}</text>`);
  out.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${esc(metricLabel(t))}</text>`);
  // series
  t.rows.levels.forEach((row, k) => {
    const color = COLORS[k % COLORS.length]!;
    const name = rowLabels[k]!;
    const pts = cols.map((col, i) => ({ i, c: cellAt(t, row, col) })).filter((p) => p.c !== undefined);
    if (pts.length > 1) {
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${(X(p.i) + offset(k)).toFixed(1)},${Y(p.c!.mean).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const p of pts) {
      const x = Number((X(p.i) + offset(k)).toFixed(1));
      const c = p.c!;
      if (Number.isFinite(c.ci.low) && c.ci.high > c.ci.low) {
        out.push(`<line x1="${x}" x2="${x}" y1="${Y(c.ci.low).toFixed(1)}" y2="${Y(c.ci.high).toFixed(1)}" stroke="${color}" stroke-width="1.5"/>`);
        for (const v of [c.ci.low, c.ci.high]) out.push(`<line x1="${x - 4}" x2="${x + 4}" y1="${Y(v).toFixed(1)}" y2="${Y(v).toFixed(1)}" stroke="${color}" stroke-width="1.5"/>`);
      }
      const interval = Number.isFinite(c.ci.low) ? `, 95 % CI [${c.ci.low.toFixed(2)}, ${c.ci.high.toFixed(2)}]` : '';
      out.push(`<circle cx="${x}" cy="${Y(c.mean).toFixed(1)}" r="4" fill="${color}"><title>${esc(name)} ${esc(colLabels[p.i]!)}: ${c.mean.toFixed(2)} ± ${c.std.toFixed(2)} (n=${c.n}${interval})</title></circle>`);
    }
    const ly = m.top + 10 + k * 22;
    out.push(`<line x1="${W - m.right + 20}" x2="${W - m.right + 44}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    out.push(`<circle cx="${W - m.right + 32}" cy="${ly}" r="4" fill="${color}"/>`);
    out.push(`<text x="${W - m.right + 52}" y="${ly + 4}">${esc(name)}</text>`);
  });
  out.push(`<text x="${W - m.right + 20}" y="${m.top + ph + 22}" font-size="11" fill="#555">bars: 95 % t interval</text>`);
  out.push(`<text x="${W - m.right + 20}" y="${m.top + ph + 36}" font-size="11" fill="#555">of the mean over ${esc(t.over.join(LEVEL_SEPARATOR) || 'runs')}</text>`);
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** Rasterises the SVG to PNG (sharp renders SVG through librsvg). */
export async function toPng(svg: string, file: string): Promise<void> {
  const { default: sharp } = await import('sharp');
  await sharp(Buffer.from(svg), { density: 144 }).png().toFile(file);
}
