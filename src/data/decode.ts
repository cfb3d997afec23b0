/**
 * Decoding image and label files with sharp (libvips), off the main thread. Problems are reported
 * as `BadSampleError`s that name the file and what is wrong, so a dataset can fail clearly or skip.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decodeIndexedPng } from './png.js';

/** Why one sample cannot be used; the dataset turns it into an AblateError or a skip. */
export class BadSampleError extends Error {
  override readonly name = 'BadSampleError';
  constructor(
    readonly file: string,
    readonly problem: string,
    readonly code: string,
  ) {
    super(`${file}: ${problem}`);
  }
}

export interface RawImage {
  width: number;
  height: number;
  /** H×W×3 RGB bytes. */
  data: Uint8Array;
}

export interface RawLabel {
  width: number;
  height: number;
  /** H×W values as stored (before any id mapping). */
  data: Uint8Array;
}

async function readOrFail(file: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new BadSampleError(file, code === 'ENOENT' ? 'file does not exist' : `cannot read file (${code ?? (e as Error).message})`, 'data.missing-file');
  }
}

/** Decodes any image sharp reads (JPEG, PNG …) to 8-bit RGB; alpha is dropped, gray is expanded. */
export async function decodeRgb(file: string): Promise<RawImage> {
  const buf = await readOrFail(file);
  try {
    const { data, info } = await sharp(buf, { failOn: 'truncated' }).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded to ${info.channels} channels`);
    return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
  } catch (e) {
    throw new BadSampleError(file, `cannot decode image (${(e as Error).message.split('\n')[0]})`, 'data.corrupt-image');
  }
}

function isGray(data: Uint8Array, n: number, channels: number): boolean {
  for (let i = 0; i < n; i++) {
    const o = i * channels;
    if (data[o] !== data[o + 1] || data[o] !== data[o + 2]) return false;
  }
  return true;
}

/** Label colours as a lookup: packed RGB (r<<16|g<<8|b) → index, from RGB triples (index i at 3i; the first index of a repeated colour wins). */
export function labelColourLookup(colours: Uint8Array): ReadonlyMap<number, number> {
  const map = new Map<number, number>();
  for (let i = colours.length / 3 - 1; i >= 0; i--) {
    map.set(((colours[i * 3] as number) << 16) | ((colours[i * 3 + 1] as number) << 8) | (colours[i * 3 + 2] as number), i);
  }
  return map;
}

/**
 * Decodes a label map to one value per pixel: grayscale index PNGs as stored, indexed-colour PNGs
 * to their colour-table indices, and RGB colour labels through the data set's label colours
 * (`labelColourLookup`; an unknown colour, or a colour label without them, is a bad sample).
 */
export async function decodeLabel(file: string, colours?: ReadonlyMap<number, number>): Promise<RawLabel> {
  const buf = await readOrFail(file);
  let indexed;
  try {
    indexed = decodeIndexedPng(buf);
  } catch (e) {
    if (buf.subarray(0, 4).toString('latin1') === '\x89PNG') throw new BadSampleError(file, `cannot decode label (${(e as Error).message})`, 'data.corrupt-label');
    indexed = undefined; // not a PNG: let sharp try (e.g. a TIFF label)
  }
  if (indexed) return { width: indexed.width, height: indexed.height, data: indexed.data };
  let decoded;
  try {
    const meta = await sharp(buf).metadata();
    // sharp expands gray to RGB on raw output; take the one stored channel of a gray label.
    const gray = (meta.channels ?? 3) <= 2;
    const pipeline = sharp(buf, { failOn: 'truncated' });
    decoded = await (gray ? pipeline.extractChannel(0) : pipeline).raw().toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new BadSampleError(file, `cannot decode label (${(e as Error).message.split('\n')[0]})`, 'data.corrupt-label');
  }
  const { data, info } = decoded;
  const n = info.width * info.height;
  const out = new Uint8Array(n);
  if (info.channels <= 2) {
    for (let i = 0; i < n; i++) out[i] = data[i * info.channels] as number;
  } else if (isGray(data, n, info.channels)) {
    // An index label saved as RGB gray (r = g = b): the values are the indices.
    for (let i = 0; i < n; i++) out[i] = data[i * info.channels] as number;
  } else {
    if (!colours) throw new BadSampleError(file, 'is a colour label, and the data set defines no label colours to map colours to classes', 'data.bad-label');
    for (let i = 0; i < n; i++) {
      const o = i * info.channels;
      const rgb = ((data[o] as number) << 16) | ((data[o + 1] as number) << 8) | (data[o + 2] as number);
      const idx = colours.get(rgb);
      if (idx === undefined) {
        throw new BadSampleError(file, `colour (${data[o]}, ${data[o + 1]}, ${data[o + 2]}) at x=${i % info.width}, y=${Math.floor(i / info.width)} is not one of the data set's label colours`, 'data.bad-label');
      }
      out[i] = idx;
    }
  }
  return { width: info.width, height: info.height, data: out };
}

/** RGB bytes to the float image a Sample carries (0..255). */
export function toFloatImage(data: Uint8Array): Float32Array {
  return new Float32Array(data); // the typed-array constructor converts natively (≈10× a JS loop)
}

/** Writes RGB bytes as a JPEG (used by data-set builders and tests). */
export async function encodeJpeg(width: number, height: number, rgb: Uint8Array, quality = 90): Promise<Buffer> {
  return sharp(Buffer.from(rgb.buffer, rgb.byteOffset, rgb.byteLength), { raw: { width, height, channels: 3 } }).jpeg({ quality }).toBuffer();
}
