/**
 * The safetensors file format, read and written without a dependency: 8-byte little-endian header
 * length N, N bytes of JSON `{name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?}`,
 * then the raw little-endian tensor bytes (offsets relative to the end of the header).
 * Reading converts every floating type to Float32Array and integer and boolean types to
 * Int32Array, which is all a tfjs tensor can hold. Both weight files (PyTorch state dicts) and the
 * engine's checkpoints use this one module, so a checkpoint opens in Python with
 * `safetensors.numpy.load_file`.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { AblateError } from '../errors.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U8' | 'BOOL';

export interface RawTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  /** Float32Array for floating dtypes, Int32Array for integer/bool dtypes. */
  data: Float32Array | Int32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, RawTensor>;
  metadata: Record<string, string>;
}

const BYTES: Record<SafetensorsDtype, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

function bad(file: string, message: string): AblateError {
  return new AblateError('weights.bad-file', `${file}: not a valid safetensors file: ${message}`, { where: { file } });
}

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

function decode(dtype: SafetensorsDtype, bytes: Uint8Array, count: number): Float32Array | Int32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  switch (dtype) {
    case 'F32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
      return out;
    }
    case 'F64': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(i * 8, true);
      return out;
    }
    case 'F16': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = f16ToF32(view.getUint16(i * 2, true));
      return out;
    }
    case 'BF16': {
      const out = new Float32Array(count);
      const tmp = new DataView(new ArrayBuffer(4));
      for (let i = 0; i < count; i++) {
        tmp.setUint32(0, view.getUint16(i * 2, true) << 16, false);
        out[i] = tmp.getFloat32(0, false);
      }
      return out;
    }
    case 'I64': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = Number(view.getBigInt64(i * 8, true));
      return out;
    }
    case 'I32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(i * 4, true);
      return out;
    }
    case 'I16': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true);
      return out;
    }
    case 'I8': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt8(i);
      return out;
    }
    case 'U8':
    case 'BOOL':
      return Int32Array.from(bytes.subarray(0, count));
  }
}

/** Parses safetensors bytes; `file` is only used in error messages. */
export function parseSafetensors(buf: Uint8Array, file = '<buffer>'): SafetensorsFile {
  if (buf.byteLength < 8) throw bad(file, 'shorter than the 8-byte header length');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const headerLen = Number(view.getBigUint64(0, true));
  if (headerLen > buf.byteLength - 8) throw bad(file, `header length ${headerLen} exceeds the file size`);
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder().decode(buf.subarray(8, 8 + headerLen))) as Record<string, unknown>;
  } catch (e) {
    throw bad(file, `header is not JSON (${(e as Error).message})`);
  }
  const dataStart = 8 + headerLen;
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = (entry ?? {}) as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: string; shape?: number[]; data_offsets?: [number, number] };
    if (!e || typeof e.dtype !== 'string' || !Array.isArray(e.shape) || !Array.isArray(e.data_offsets)) throw bad(file, `entry ${name} lacks dtype/shape/data_offsets`);
    if (!(e.dtype in BYTES)) throw bad(file, `tensor ${name} has unsupported dtype ${e.dtype}`);
    const dtype = e.dtype as SafetensorsDtype;
    const count = e.shape.reduce((a, b) => a * b, 1);
    const [begin, end] = e.data_offsets;
    if (end - begin !== count * BYTES[dtype]) throw bad(file, `tensor ${name}: ${end - begin} bytes for shape [${e.shape.join(', ')}] of ${dtype}`);
    if (dataStart + end > buf.byteLength) throw bad(file, `tensor ${name} runs past the end of the file`);
    tensors.set(name, { dtype, shape: e.shape, data: decode(dtype, buf.subarray(dataStart + begin, dataStart + end), count) });
  }
  return { tensors, metadata };
}

export function readSafetensors(file: string): SafetensorsFile {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new AblateError('weights.missing-file', `cannot read weights file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { where: { file } });
  }
  return parseSafetensors(buf, file);
}

export interface TensorToWrite {
  shape: number[];
  /** Float32Array is written as F32, Int32Array as I32, Uint8Array as U8 (a tfjs bool tensor). */
  data: Float32Array | Int32Array | Uint8Array;
}

function dtypeOf(data: TensorToWrite['data']): { dtype: SafetensorsDtype; bytes: number } {
  if (data instanceof Float32Array) return { dtype: 'F32', bytes: 4 };
  if (data instanceof Int32Array) return { dtype: 'I32', bytes: 4 };
  return { dtype: 'U8', bytes: 1 };
}

/** Serialises tensors (in the given order) to safetensors bytes. */
export function serializeSafetensors(tensors: ReadonlyMap<string, TensorToWrite>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header['__metadata__'] = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) throw new Error(`serializeSafetensors: ${name} has ${t.data.length} values for shape [${t.shape.join(', ')}]`);
    const { dtype, bytes: width } = dtypeOf(t.data);
    const bytes = count * width;
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to a multiple of 8 so the data is aligned (as the reference writer does).
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const t of tensors.values()) {
    if (t.data instanceof Uint8Array) {
      out.set(t.data, pos);
      pos += t.data.length;
      continue;
    }
    for (let i = 0; i < t.data.length; i++, pos += 4) {
      if (t.data instanceof Float32Array) view.setFloat32(pos, t.data[i]!, true);
      else view.setInt32(pos, t.data[i]!, true);
    }
  }
  return out;
}

/** Writes atomically (a temporary file, then a rename): a crash never leaves half a file behind. */
export function writeSafetensors(file: string, tensors: ReadonlyMap<string, TensorToWrite>, metadata: Record<string, string> = {}): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeSafetensors(tensors, metadata));
  renameSync(tmp, file);
}
