// Gemma Scope `params.npz`: a zip of .npy members (W_enc, b_enc, W_dec, b_dec, threshold).
import { unzipSync } from 'fflate';
import { UserInputError } from '../errors.ts';
import { halfToF32 } from './halfFloat.ts';
import type { F32Tensor } from './safetensors.ts';

export interface NpzArchive {
  file: string;
  members: Map<string, Uint8Array>;
}

export function openNpz(bytes: Uint8Array, file: string): NpzArchive {
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (e) {
    throw new UserInputError(`not a readable .npz (zip) archive: ${(e as Error).message}`, file);
  }
  const members = new Map<string, Uint8Array>();
  for (const [name, data] of Object.entries(entries)) members.set(name.replace(/\.npy$/, ''), data);
  return { file, members };
}

export function npzHas(npz: NpzArchive, name: string): boolean {
  return npz.members.has(name);
}

/** The dtype string of a member as numpy wrote it (e.g. "<f4"), for provenance. */
export function npzDtype(npz: NpzArchive, name: string): string {
  const m = npz.members.get(name);
  return m ? parseNpyHeader(m, `${npz.file}:${name}.npy`).descr : 'missing';
}

export function npzTensorF32(npz: NpzArchive, name: string): F32Tensor {
  const m = npz.members.get(name);
  if (!m) throw new UserInputError(`missing array "${name}" (found: ${[...npz.members.keys()].join(', ') || 'none'})`, npz.file);
  return parseNpyF32(m, `${npz.file}:${name}.npy`);
}

interface NpyHeader {
  descr: string;
  fortran: boolean;
  shape: number[];
  dataOffset: number;
}

// Gemma Scope arrays are f32, but exports in f16 and bfloat16 (ml_dtypes writes it as the void
// type "|V2") exist; a general .npy reader rejects those, so SAE members are read here.
function parseNpyHeader(bytes: Uint8Array, file: string): NpyHeader {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.byteLength < 10 || !magic.every((b, i) => bytes[i] === b)) throw new UserInputError('not a .npy array (bad magic)', file);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  if (start + headerLen > bytes.byteLength) throw new UserInputError(`.npy header length ${headerLen} runs past the end of the array`, file);
  const text = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order':\s*True/.test(text);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || shapeText === undefined) throw new UserInputError(`unreadable .npy header ${JSON.stringify(text.trim())}`, file);
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  return { descr, fortran, shape, dataOffset: start + headerLen };
}

export function parseNpyF32(bytes: Uint8Array, file: string): F32Tensor {
  const h = parseNpyHeader(bytes, file);
  if (h.fortran && h.shape.length > 2) throw new UserInputError('Fortran-ordered arrays of more than 2 dimensions are not supported; save with C order', file);
  const count = h.shape.reduce((a, b) => a * b, 1);
  const body = bytes.subarray(h.dataOffset);
  const width: Record<string, number> = { '<f4': 4, '<f8': 8, '<f2': 2, '|V2': 2, '<V2': 2, bfloat16: 2 };
  const w = width[h.descr];
  if (w === undefined) throw new UserInputError(`unsupported dtype ${h.descr} (expected little-endian f4, f8, f2 or bfloat16)`, file);
  if (body.byteLength < count * w) throw new UserInputError(`shape (${h.shape.join(', ')}) needs ${count * w} bytes, array holds ${body.byteLength}`, file);
  const raw = body.slice(0, count * w);
  let data: Float32Array;
  if (w === 4) data = new Float32Array(raw.buffer, 0, count);
  else if (w === 8) data = Float32Array.from(new Float64Array(raw.buffer, 0, count));
  else data = halfToF32(raw, h.descr === '<f2' ? 'f16' : 'bf16');
  // np.savez of a transposed torch/numpy matrix (e.g. `W.T.numpy()`) writes it column-major.
  if (h.fortran && h.shape.length === 2) data = fromColumnMajor(data, h.shape[0]!, h.shape[1]!);
  return { shape: h.shape, data };
}

function fromColumnMajor(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let c = 0; c < cols; c++) for (let r = 0; r < rows; r++) out[r * cols + c] = data[c * rows + r]!;
  return out;
}

/** Serialises one f32/f16/bf16 array as .npy v1 (fixtures). */
export function encodeNpy(shape: number[], payload: Uint8Array, descr: '<f4' | '<f2' | '|V2'): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  let header = dict;
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const out = new Uint8Array(10 + header.length + payload.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0], 0);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(payload, 10 + header.length);
  return out;
}
