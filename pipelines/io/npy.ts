// NumPy .npy files (format versions 1–3, C order, little-endian), the lingua franca for handing
// matrices to and from researchers' Python code.
import { readFile } from 'node:fs/promises';
import { UserInputError } from '../errors.ts';
import { writeFileAtomic } from '../../storage/atomic.ts';
import { mat, type Mat } from '../kernels/gemm.ts';

export type NpyDType = 'f2' | 'f4' | 'f8' | 'i1' | 'i2' | 'i4' | 'i8' | 'u1' | 'u2' | 'u4' | 'u8' | 'b1';
export type NpyData =
  | Float32Array
  | Float64Array
  | Uint16Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint8Array
  | Uint32Array
  | BigUint64Array;

export interface NpyArray {
  dtype: NpyDType;
  shape: number[];
  /** f2 stays as raw Uint16 half-float bits; use `toFloat32` to widen. */
  data: NpyData;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

const ITEM_SIZE: Record<NpyDType, number> = { f2: 2, f4: 4, f8: 8, i1: 1, i2: 2, i4: 4, i8: 8, u1: 1, u2: 2, u4: 4, u8: 8, b1: 1 };

/** The dict of a .npy header (descr, fortran_order, shape), validated; `file` names the source in errors. */
export function parseHeaderDict(text: string, file: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(text)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(text)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(text)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new UserInputError(`not a valid .npy header (${JSON.stringify(text.trim().slice(0, 80))})`, file);
  }
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map((s) => {
      const n = Number(s.replace(/L$/, ''));
      if (!Number.isInteger(n) || n < 0) throw new UserInputError(`bad dimension '${s}' in .npy shape`, file);
      return n;
    });
  return { descr, fortran: fortran === 'True', shape };
}

function dtypeFromDescr(descr: string, file: string): NpyDType {
  const m = /^([<>|=])([fiub])(\d)$/.exec(descr);
  if (!m) throw new UserInputError(`unsupported .npy dtype '${descr}' (need a plain numeric dtype)`, file);
  const [, order, kind, size] = m;
  const dtype = `${kind}${size}` as NpyDType;
  if (!(dtype in ITEM_SIZE)) throw new UserInputError(`unsupported .npy dtype '${descr}'`, file);
  if (order === '>' && size !== '1') throw new UserInputError(`big-endian .npy data ('${descr}') is not supported; save with '<' byte order`, file);
  return dtype;
}

/** Parses .npy bytes; `file` names the source in errors. */
export function parseNpy(bytes: Uint8Array, file: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new UserInputError('not a .npy file (bad magic bytes)', file);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new UserInputError('truncated .npy header', file);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new UserInputError(`unsupported .npy format version ${major}`, file);
  }
  if (headerStart + headerLen > bytes.length) throw new UserInputError('truncated .npy header', file);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, headerStart + headerLen));
  const { descr, fortran, shape } = parseHeaderDict(header, file);
  if (fortran) throw new UserInputError('Fortran-order .npy arrays are not supported; save a C-order array (np.ascontiguousarray)', file);
  const dtype = dtypeFromDescr(descr, file);
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const need = count * ITEM_SIZE[dtype];
  if (bytes.length - dataStart < need) {
    throw new UserInputError(`truncated .npy data: shape (${shape.join(', ')}) needs ${need} bytes, file has ${bytes.length - dataStart}`, file);
  }
  // Copy into an aligned buffer: the data offset is not guaranteed to be a multiple of the item size.
  const raw = Uint8Array.prototype.slice.call(bytes, dataStart, dataStart + need).buffer;
  const data: NpyData = {
    f2: () => new Uint16Array(raw),
    f4: () => new Float32Array(raw),
    f8: () => new Float64Array(raw),
    i1: () => new Int8Array(raw),
    i2: () => new Int16Array(raw),
    i4: () => new Int32Array(raw),
    i8: () => new BigInt64Array(raw),
    u1: () => new Uint8Array(raw),
    u2: () => new Uint16Array(raw),
    u4: () => new Uint32Array(raw),
    u8: () => new BigUint64Array(raw),
    b1: () => new Uint8Array(raw),
  }[dtype]();
  return { dtype, shape, data };
}

export async function readNpy(path: string): Promise<NpyArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UserInputError(code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? (e as Error).message})`, path);
  }
  return parseNpy(bytes, path);
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? NaN : s * Infinity;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}

/** Any numeric npy array widened/narrowed to f32. */
export function toFloat32(a: NpyArray): Float32Array {
  if (a.data instanceof Float32Array) return a.data;
  if (a.dtype === 'f2') return Float32Array.from(a.data as Uint16Array, halfToFloat);
  if (a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) return Float32Array.from(a.data, (v) => Number(v));
  return Float32Array.from(a.data as ArrayLike<number>);
}

/** A 2-D numeric .npy as an f32 matrix; NaN/Inf and non-2-D shapes are refused. */
export async function readNpyMatrix(path: string): Promise<Mat> {
  const a = await readNpy(path);
  if (a.shape.length !== 2) throw new UserInputError(`expected a 2-D matrix, got shape (${a.shape.join(', ')})`, path);
  const data = toFloat32(a);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    const cols = a.shape[1]!;
    throw new UserInputError(`non-finite value (${data[bad]}) at row ${Math.floor(bad / cols)}, column ${bad % cols}`, path);
  }
  return mat(a.shape[0]!, a.shape[1]!, data);
}

/** Serialises a matrix (f4 or f8 data) or a typed array with an explicit shape as .npy v1 bytes. */
export function encodeNpy(data: Float32Array | Float64Array | Int32Array | BigInt64Array, shape: number[]): Uint8Array {
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Float64Array ? '<f8' : data instanceof Int32Array ? '<i4' : '<i8';
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const pad = 64 - ((10 + header.length + 1) % 64);
  header = header + ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

export async function writeNpy(path: string, m: Mat | { data: Float64Array | Int32Array | BigInt64Array | Float32Array; shape: number[] }): Promise<void> {
  const bytes = 'shape' in m ? encodeNpy(m.data, m.shape) : encodeNpy(m.data, [m.rows, m.cols]);
  await writeFileAtomic(path, bytes);
}
