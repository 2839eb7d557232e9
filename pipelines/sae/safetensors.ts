// safetensors reader (and a small writer for fixtures). Format: 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__?},
// then the data section; offsets are relative to the data section. Every structural problem is
// a UserInputError naming the file, because these files come from users.
import { open } from 'node:fs/promises';
import { UserInputError } from '../errors.ts';
import { f32ToHalf, halfToF32 } from './halfFloat.ts';

export type SafetensorsDType = 'F32' | 'F16' | 'BF16' | 'F64';

const BYTES_PER: Record<SafetensorsDType, number> = { F32: 4, F16: 2, BF16: 2, F64: 8 };

export interface TensorEntry {
  name: string;
  dtype: SafetensorsDType;
  shape: number[];
  /** Byte range within the data section. */
  begin: number;
  end: number;
}

export interface Safetensors {
  file: string;
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** The data section (offsets in entries are relative to it). */
  data: Uint8Array;
}

export interface F32Tensor {
  shape: number[];
  data: Float32Array;
}

function isDType(s: unknown): s is SafetensorsDType {
  return typeof s === 'string' && s in BYTES_PER;
}

/** Validates a header against the data section's size; shared by the in-memory and file readers. */
function parseHeader(headerBytes: Uint8Array, dataBytes: number, file: string): { entries: Map<string, TensorEntry>; metadata: Record<string, string> } {
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(headerBytes));
  } catch (e) {
    throw new UserInputError(`safetensors header is not valid JSON (${(e as Error).message})`, file);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw new UserInputError('safetensors header is not a JSON object', file);
  }
  const entries = new Map<string, TensorEntry>();
  let metadata: Record<string, string> = {};
  for (const [name, raw] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (raw ?? {}) as Record<string, string>;
      continue;
    }
    const r = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!isDType(r?.dtype)) {
      throw new UserInputError(`tensor "${name}" has unsupported dtype ${JSON.stringify(r?.dtype)} (expected F32, F16, BF16 or F64)`, file);
    }
    const shape = r.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      throw new UserInputError(`tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`, file);
    }
    const off = r.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((o) => Number.isInteger(o) && o >= 0) || off[0] > off[1]) {
      throw new UserInputError(`tensor "${name}" has invalid data_offsets ${JSON.stringify(off)}`, file);
    }
    const [begin, end] = off as [number, number];
    if (end > dataBytes) {
      throw new UserInputError(`tensor "${name}" data_offsets [${begin}, ${end}] overrun the data section (${dataBytes} bytes)`, file);
    }
    const expected = (shape as number[]).reduce((a, b) => a * b, 1) * BYTES_PER[r.dtype];
    if (end - begin !== expected) {
      throw new UserInputError(
        `tensor "${name}" shape [${(shape as number[]).join(', ')}] ${r.dtype} needs ${expected} bytes but data_offsets span ${end - begin}`,
        file,
      );
    }
    entries.set(name, { name, dtype: r.dtype, shape: shape as number[], begin, end });
  }
  const sorted = [...entries.values()].filter((e) => e.end > e.begin).sort((a, b) => a.begin - b.begin);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i]!.begin < sorted[i - 1]!.end) {
      throw new UserInputError(`tensors "${sorted[i - 1]!.name}" and "${sorted[i]!.name}" have overlapping data_offsets`, file);
    }
  }
  return { entries, metadata };
}

/**
 * The largest header read, as in the reference implementation (the Rust `safetensors` crate's
 * MAX_HEADER_SIZE, checked before anything is allocated): real headers are a few KB to a few MB.
 */
export const MAX_SAFETENSORS_HEADER_BYTES = 100_000_000;

function headerLength(first8: Uint8Array, fileSize: number, file: string): number {
  if (fileSize < 8) throw new UserInputError(`not a safetensors file: ${fileSize} bytes, need at least 8 for the header length`, file);
  const n = Number(new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true));
  if (n > MAX_SAFETENSORS_HEADER_BYTES) {
    throw new UserInputError(`safetensors header length ${n} exceeds the ${MAX_SAFETENSORS_HEADER_BYTES}-byte limit (corrupt or not a safetensors file)`, file);
  }
  if (8 + n > fileSize) throw new UserInputError(`safetensors header length ${n} runs past the end of the file (${fileSize} bytes)`, file);
  return n;
}

/** Parses a whole safetensors file held in memory. */
export function parseSafetensors(bytes: Uint8Array, file: string): Safetensors {
  const n = headerLength(bytes, bytes.byteLength, file);
  const data = bytes.subarray(8 + n);
  const { entries, metadata } = parseHeader(bytes.subarray(8, 8 + n), data.byteLength, file);
  return { file, entries, metadata, data };
}

/**
 * Reads only the header from disk, then each requested tensor on its own: SAE checkpoints can
 * exceed Node's 2 GB single-read limit, and the caller never needs the whole file at once.
 */
export async function openSafetensorsFile(file: string): Promise<SafetensorsFile> {
  const fh = await open(file, 'r');
  try {
    const size = (await fh.stat()).size;
    const first8 = new Uint8Array(8);
    await fh.read(first8, 0, Math.min(8, size), 0);
    const n = headerLength(first8, size, file);
    const headerBytes = new Uint8Array(n);
    await fh.read(headerBytes, 0, n, 8);
    const { entries, metadata } = parseHeader(headerBytes, size - 8 - n, file);
    return { file, entries, metadata, dataOffset: 8 + n };
  } finally {
    await fh.close();
  }
}

export interface SafetensorsFile {
  file: string;
  entries: Map<string, TensorEntry>;
  metadata: Record<string, string>;
  /** Byte offset of the data section in the file. */
  dataOffset: number;
}

/** Reads one tensor of an opened file as f32; a missing tensor is a UserInputError. */
export async function readTensorF32(st: SafetensorsFile, name: string): Promise<F32Tensor> {
  const e = st.entries.get(name);
  if (!e) throw new UserInputError(`missing tensor "${name}" (found: ${[...st.entries.keys()].join(', ') || 'none'})`, st.file);
  const bytes = new Uint8Array(e.end - e.begin);
  const fh = await open(st.file, 'r');
  try {
    let done = 0;
    while (done < bytes.byteLength) {
      const { bytesRead } = await fh.read(bytes, done, Math.min(bytes.byteLength - done, 1 << 30), st.dataOffset + e.begin + done);
      if (bytesRead === 0) throw new UserInputError(`file ended while reading tensor "${name}"`, st.file);
      done += bytesRead;
    }
  } finally {
    await fh.close();
  }
  return { shape: e.shape, data: e.dtype === 'F32' ? new Float32Array(bytes.buffer) : toF32(bytes, e.dtype) };
}

/** Widens any supported dtype to f32 (copying, so the result is aligned and owned). */
export function toF32(bytes: Uint8Array, dtype: SafetensorsDType): Float32Array {
  switch (dtype) {
    case 'F32': {
      const copy = bytes.slice();
      return new Float32Array(copy.buffer, 0, copy.byteLength / 4);
    }
    case 'F64': {
      const copy = bytes.slice();
      return Float32Array.from(new Float64Array(copy.buffer, 0, copy.byteLength / 8));
    }
    case 'F16':
      return halfToF32(bytes, 'f16');
    case 'BF16':
      return halfToF32(bytes, 'bf16');
  }
}

export function hasTensor(st: Safetensors, name: string): boolean {
  return st.entries.has(name);
}

/** The named tensor as f32; a missing tensor is a UserInputError. */
export function tensorF32(st: Safetensors, name: string): F32Tensor {
  const e = st.entries.get(name);
  if (!e) throw new UserInputError(`missing tensor "${name}" (found: ${[...st.entries.keys()].join(', ') || 'none'})`, st.file);
  return { shape: e.shape, data: toF32(st.data.subarray(e.begin, e.end), e.dtype) };
}

export interface TensorToWrite {
  dtype: 'F32' | 'F16' | 'BF16';
  shape: number[];
  data: Float32Array;
}

/** Serialises tensors (used by fixtures; real checkpoints come from Python). */
export function encodeSafetensors(tensors: Record<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata) header.__metadata__ = metadata;
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const blob =
      t.dtype === 'F32' ? new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength) : f32ToHalf(t.data, t.dtype === 'F16' ? 'f16' : 'bf16');
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + blob.byteLength] };
    blobs.push(blob);
    offset += blob.byteLength;
  }
  let json = JSON.stringify(header);
  // Pad the header to a multiple of 8 so the data section is aligned, as the Python writer does.
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + headerBytes.byteLength + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.byteLength), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.byteLength;
  for (const b of blobs) {
    out.set(b, pos);
    pos += b.byteLength;
  }
  return out;
}
