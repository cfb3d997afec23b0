/**
 * Pictures a researcher looks at beside the numbers: class maps in a data set's colours, an
 * evaluation's sample grid (image | ground truth | prediction), a heatmap of a matrix with named
 * rows and columns. PNG files drawn with sharp (libvips); text is SVG rendered by librsvg.
 * Nothing here knows a data set: colours and names come from the caller.
 */
import sharp from 'sharp';

/** RGB for label value i at 3i (0..255), as data sets describe their class colours. */
export type Colours = Uint8Array;

/** Void pixels when the data set names no colour for them: a light grey-beige, easy to tell from any class. */
const VOID_RGB = [224, 224, 192] as const;

/**
 * Colours for the 256 label values: the data set's own where it has them, else distinct hues
 * (golden-angle steps), and `ignoreIndex` (void) in a light neutral colour.
 */
export function labelColourTable(given: Colours | undefined, numClasses: number, ignoreIndex: number): Colours {
  const out = new Uint8Array(256 * 3);
  for (let i = 0; i < 256; i++) {
    if (given && given.length >= 3 * (i + 1)) {
      out.set(given.subarray(3 * i, 3 * i + 3), 3 * i);
      continue;
    }
    const [r, g, b] = i === ignoreIndex ? VOID_RGB : i === 0 ? [0, 0, 0] : hsvToRgb(((i * 137.508) % 360) / 360, 0.65, i < numClasses ? 0.95 : 0.5);
    out[3 * i] = r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = b;
  }
  return out;
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const [r, g, b] = [[v, t, p], [q, v, p], [p, v, t], [p, q, v], [t, p, v], [v, p, q]][i % 6]!;
  return [Math.round(r! * 255), Math.round(g! * 255), Math.round(b! * 255)];
}

/** An H×W map of label values as RGB bytes. */
export function labelsToRgb(labels: ArrayLike<number>, colours: Colours): Uint8Array {
  const out = new Uint8Array(labels.length * 3);
  for (let i = 0; i < labels.length; i++) {
    const v = (labels[i]! & 0xff) * 3;
    out[3 * i] = colours[v]!;
    out[3 * i + 1] = colours[v + 1]!;
    out[3 * i + 2] = colours[v + 2]!;
  }
  return out;
}

/**
 * A network input (H'×W'×3 float, normalised in whatever way the data set's transforms chose) as
 * RGB bytes for display: the top-left `height`×`width` (padding cut off), stretched to 0..255 by
 * the image's own minimum and maximum, which undoes any per-channel-equal affine normalisation.
 */
export function inputToRgb(image: Float32Array, paddedWidth: number, height: number, width: number): Uint8Array {
  let lo = Infinity;
  let hi = -Infinity;
  for (let y = 0; y < height; y++) {
    for (let i = y * paddedWidth * 3, end = i + width * 3; i < end; i++) {
      const v = image[i]!;
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const scale = hi > lo ? 255 / (hi - lo) : 0;
  const out = new Uint8Array(height * width * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width * 3; x++) out[(y * width) * 3 + x] = Math.round((image[y * paddedWidth * 3 + x]! - lo) * scale);
  }
  return out;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const FONT = 'font-family="DejaVu Sans, Arial, Helvetica, sans-serif"';

/** Text drawn into an RGBA overlay of the given size. */
function svg(width: number, height: number, body: string): Buffer {
  return Buffer.from(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">${body}</svg>`);
}

export interface SampleRow {
  id: string;
  height: number;
  width: number;
  /** RGB bytes, height×width×3 each. */
  image: Uint8Array;
  truth: Uint8Array;
  prediction: Uint8Array;
}

export interface LegendEntry {
  name: string;
  rgb: readonly [number, number, number];
}

/**
 * One PNG: a row per sample (its id on the left), columns image | ground truth | prediction,
 * each tile scaled to `tileHeight` (nearest neighbour for class maps), a legend of the classes shown.
 */
export async function writeSampleGrid(file: string, rows: readonly SampleRow[], legend: readonly LegendEntry[], title: string, tileHeight = 160): Promise<void> {
  const header = 28;
  const idWidth = 120;
  const gap = 6;
  const tiles = await Promise.all(
    rows.map(async (r) => {
      const w = Math.max(1, Math.round((r.width * tileHeight) / r.height));
      const tile = (data: Uint8Array, kernel: 'nearest' | 'lanczos3') => sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width: r.width, height: r.height, channels: 3 } }).resize(w, tileHeight, { kernel }).png().toBuffer();
      return { w, parts: await Promise.all([tile(r.image, r.height < tileHeight ? 'nearest' : 'lanczos3'), tile(r.truth, 'nearest'), tile(r.prediction, 'nearest')]) };
    }),
  );
  const colWidth = Math.max(tileHeight, ...tiles.map((t) => t.w));
  const legendCols = 4;
  const legendRows = Math.ceil(legend.length / legendCols);
  const legendHeight = legendRows * 20 + 10;
  const width = idWidth + 3 * (colWidth + gap);
  const height = header + rows.length * (tileHeight + gap) + legendHeight;
  const composites: sharp.OverlayOptions[] = [];
  let text = `<text x="4" y="19" font-size="14" ${FONT} font-weight="bold">${escapeXml(title)}</text>`;
  ['image', 'ground truth', 'prediction'].forEach((t, c) => {
    text += `<text x="${idWidth + c * (colWidth + gap) + colWidth / 2}" y="19" font-size="14" ${FONT} text-anchor="middle">${t}</text>`;
  });
  rows.forEach((r, i) => {
    const top = header + i * (tileHeight + gap);
    text += `<text x="4" y="${top + tileHeight / 2}" font-size="12" ${FONT}>${escapeXml(r.id.length > 16 ? `…${r.id.slice(-15)}` : r.id)}</text>`;
    tiles[i]!.parts.forEach((input, c) => composites.push({ input, left: idWidth + c * (colWidth + gap), top }));
  });
  const legendTop = header + rows.length * (tileHeight + gap) + 4;
  const legendColWidth = Math.floor((width - 8) / legendCols);
  legend.forEach((e, i) => {
    const x = 4 + (i % legendCols) * legendColWidth;
    const y = legendTop + Math.floor(i / legendCols) * 20;
    text += `<rect x="${x}" y="${y}" width="14" height="14" fill="rgb(${e.rgb.join(',')})" stroke="#555"/><text x="${x + 20}" y="${y + 12}" font-size="12" ${FONT}>${escapeXml(e.name)}</text>`;
  });
  composites.push({ input: svg(width, height, text), left: 0, top: 0 });
  await sharp({ create: { width, height, channels: 3, background: { r: 255, g: 255, b: 255 } } }).composite(composites).png().toFile(file);
}

/**
 * A heatmap of `values` (rows × columns, each in 0..1, NaN drawn grey) with named rows and columns
 * and the value in each cell as a percentage: e.g. a row-normalised confusion matrix.
 */
export async function writeHeatmap(file: string, values: readonly (readonly number[])[], rowNames: readonly string[], colNames: readonly string[], opts: { title: string; rowAxis: string; colAxis: string }): Promise<void> {
  const cell = 30;
  const left = 12 + 7 * Math.max(4, ...rowNames.map((n) => n.length));
  const top = 40 + 7 * Math.max(4, ...colNames.map((n) => n.length));
  const width = left + cell * colNames.length + 20;
  const height = top + cell * rowNames.length + 30;
  let body = `<rect width="${width}" height="${height}" fill="white"/>`;
  body += `<text x="6" y="18" font-size="14" ${FONT} font-weight="bold">${escapeXml(opts.title)}</text>`;
  body += `<text x="${left + (cell * colNames.length) / 2}" y="${height - 8}" font-size="12" ${FONT} text-anchor="middle">${escapeXml(opts.colAxis)}</text>`;
  body += `<text x="6" y="34" font-size="12" ${FONT}>${escapeXml(opts.rowAxis)} ↓</text>`;
  colNames.forEach((n, c) => {
    const x = left + c * cell + cell / 2 + 4;
    body += `<text transform="translate(${x},${top - 6}) rotate(-90)" font-size="11" ${FONT}>${escapeXml(n)}</text>`;
  });
  values.forEach((row, r) => {
    const y = top + r * cell;
    body += `<text x="${left - 6}" y="${y + cell / 2 + 4}" font-size="11" ${FONT} text-anchor="end">${escapeXml(rowNames[r] ?? '')}</text>`;
    row.forEach((v, c) => {
      const x = left + c * cell;
      // White → dark blue; dark cells get white text.
      const t = Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : Number.NaN;
      const fill = Number.isNaN(t) ? 'rgb(200,200,200)' : `rgb(${Math.round(255 - 247 * t)},${Math.round(255 - 207 * t)},${Math.round(255 - 148 * t)})`;
      body += `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill}" stroke="#ddd"/>`;
      if (!Number.isNaN(t) && t >= 0.005) body += `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" font-size="9" ${FONT} text-anchor="middle" fill="${t > 0.5 ? 'white' : 'black'}">${Math.round(t * 100)}</text>`;
    });
  });
  await sharp(svg(width, height, body)).flatten({ background: '#ffffff' }).png().toFile(file);
}
