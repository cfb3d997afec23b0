/**
 * Just enough safetensors for checkpoints: an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets}}`, then the raw little-endian tensor bytes. The format is
 * PyTorch's, so a checkpoint opens in Python with `safetensors.numpy.load_file`.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { AblateError } from '../errors.js';

export type StDtype = 'F32' | 'I32' | 'U8';

export interface StTensor {
  dtype: StDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

const BYTES: Record<StDtype, number> = { F32: 4, I32: 4, U8: 1 };

/** Writes tensors atomically (temp file + rename), so a crash never leaves half a checkpoint. */
export function writeSafetensors(file: string, tensors: Map<string, StTensor>, metadata: Record<string, string> = {}): void {
  const header: Record<string, unknown> = { __metadata__: metadata };
  let offset = 0;
  const names = [...tensors.keys()].sort();
  for (const name of names) {
    const t = tensors.get(name)!;
    const bytes = t.data.byteLength;
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to 8 bytes, as the reference writer does, so data is aligned.
  json += ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8);
  const headerBytes = Buffer.from(json, 'utf8');
  const out = Buffer.alloc(8 + headerBytes.length + offset);
  out.writeBigUInt64LE(BigInt(headerBytes.length), 0);
  headerBytes.copy(out, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors.get(name)!;
    Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength).copy(out, pos);
    pos += t.data.byteLength;
  }
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, out);
  renameSync(tmp, file);
}

export function readSafetensors(file: string): { tensors: Map<string, StTensor>; metadata: Record<string, string> } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new AblateError('checkpoint.unreadable', `cannot read checkpoint ${file}: ${(e as Error).message}`, { where: { file } });
  }
  const bad = (why: string) => new AblateError('checkpoint.corrupt', `checkpoint ${file} is not a valid safetensors file: ${why}`, { where: { file } });
  if (buf.length < 8) throw bad('too short');
  const n = Number(buf.readBigUInt64LE(0));
  if (8 + n > buf.length) throw bad('header longer than the file');
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  } catch {
    throw bad('header is not JSON');
  }
  const base = 8 + n;
  const tensors = new Map<string, StTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (!(e.dtype in BYTES)) throw bad(`tensor '${name}' has unsupported dtype ${e.dtype}`);
    const dtype = e.dtype as StDtype;
    const [a, b] = e.data_offsets;
    if (base + b > buf.length || a > b) throw bad(`tensor '${name}' lies outside the file`);
    // Copy into a fresh, aligned buffer: the file buffer's offsets need not be 4-byte aligned.
    const bytes = new Uint8Array(b - a);
    bytes.set(buf.subarray(base + a, base + b));
    const data = dtype === 'F32' ? new Float32Array(bytes.buffer) : dtype === 'I32' ? new Int32Array(bytes.buffer) : bytes;
    const expected = e.shape.reduce((p, d) => p * d, 1);
    if (data.length !== expected) throw bad(`tensor '${name}' has ${data.length} values for shape [${e.shape.join(', ')}]`);
    tensors.set(name, { dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}
