/**
 * A minimal PNG codec for label maps, which must stay exact class indices. Generic decoders
 * (sharp/libvips included) expand indexed-colour PNGs (colour type 3, a PLTE colour table) to RGB;
 * this one returns the indices themselves. It handles what label files use: non-interlaced 8-bit (or
 * lower) grayscale and indexed-colour images. Anything else returns `undefined` so the caller can fall back.
 */
import { deflateSync, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

export interface IndexedPng {
  width: number;
  height: number;
  /** One byte per pixel: the colour-table index (indexed-colour PNG) or the gray value. */
  data: Uint8Array;
  /** Present for indexed-colour PNGs: the PLTE colour table, RGB triples. */
  colours?: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < buf.length; i++) c = (CRC_TABLE[(c ^ (buf[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Encodes an 8-bit single-channel image; with `colours` (RGB triples) as an indexed-colour PNG. */
export function encodeIndexedPng(width: number, height: number, data: Uint8Array, colours?: Uint8Array): Buffer {
  if (data.length !== width * height) throw new Error(`encodeIndexedPng: ${data.length} values for ${width}×${height}`);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = colours ? 3 : 0;
  const raw = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) raw.set(data.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const parts = [SIGNATURE, chunk('IHDR', ihdr)];
  if (colours) parts.push(chunk('PLTE', colours));
  parts.push(chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0)));
  return Buffer.concat(parts);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/**
 * Decodes a grayscale or indexed-colour PNG of bit depth ≤ 8 to one byte per pixel. Returns `undefined`
 * for other PNG kinds (RGB, 16-bit, interlaced); throws on a damaged file.
 */
export function decodeIndexedPng(buf: Uint8Array): IndexedPng | undefined {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  if (b.length < 8 || !b.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file (bad signature)');
  let pos = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = -1;
  let interlace = 0;
  let colours: Uint8Array | undefined;
  const idat: Buffer[] = [];
  while (pos + 8 <= b.length) {
    const len = b.readUInt32BE(pos);
    const type = b.toString('ascii', pos + 4, pos + 8);
    const body = b.subarray(pos + 8, pos + 8 + len);
    if (body.length !== len) throw new Error(`truncated PNG (chunk ${type})`);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8] as number;
      colorType = body[9] as number;
      interlace = body[12] as number;
    } else if (type === 'PLTE') colours = new Uint8Array(body);
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    pos += 12 + len;
  }
  if (width === 0 || height === 0) throw new Error('PNG without a valid IHDR');
  if ((colorType !== 0 && colorType !== 3) || depth > 8 || interlace !== 0) return undefined;
  if (idat.length === 0) throw new Error('PNG without image data');
  let raw: Buffer;
  try {
    raw = inflateSync(Buffer.concat(idat));
  } catch (e) {
    throw new Error(`corrupt PNG image data (${(e as Error).message})`);
  }
  const stride = Math.ceil((width * depth) / 8);
  if (raw.length < (stride + 1) * height) throw new Error('truncated PNG image data');
  const rows = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    const src = y * (stride + 1) + 1;
    const dst = y * stride;
    for (let x = 0; x < stride; x++) {
      const v = raw[src + x] as number;
      const a = x > 0 ? (rows[dst + x - 1] as number) : 0;
      const up = y > 0 ? (rows[dst - stride + x] as number) : 0;
      const c = x > 0 && y > 0 ? (rows[dst - stride + x - 1] as number) : 0;
      let out: number;
      switch (filter) {
        case 0: out = v; break;
        case 1: out = v + a; break;
        case 2: out = v + up; break;
        case 3: out = v + ((a + up) >> 1); break;
        case 4: out = v + paeth(a, up, c); break;
        default: throw new Error(`corrupt PNG (unknown row filter ${filter})`);
      }
      rows[dst + x] = out & 0xff;
    }
  }
  if (depth === 8) return { width, height, data: rows, colours: colorType === 3 ? colours : undefined };
  // Unpack 1/2/4-bit samples (indexed-colour files with few colours use them).
  const data = new Uint8Array(width * height);
  const perByte = 8 / depth;
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const byte = rows[y * stride + Math.floor(x / perByte)] as number;
      const shift = 8 - depth * ((x % perByte) + 1);
      let v = (byte >> shift) & mask;
      if (colorType === 0) v = Math.round((v * 255) / mask); // gray scales to the full range
      data[y * width + x] = v;
    }
  }
  return { width, height, data, colours: colorType === 3 ? colours : undefined };
}
