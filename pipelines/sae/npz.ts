// Gemma Scope `params.npz`: a zip of .npy members (W_enc, b_enc, W_dec, b_dec, threshold). The
// archive comes from users, so it is read member by member from the file (zipReader.ts) and each
// member's size is checked against its own .npy header before the array is allocated: a member
// costs the memory its shape needs and no more, and archives beyond 2 GiB load.
import { open } from 'node:fs/promises';
import { UserInputError } from '../errors.ts';
import { parseHeaderDict } from '../io/npy.ts';
import { halfToF32 } from './halfFloat.ts';
import type { F32Tensor } from './safetensors.ts';
import { readZipIndex, readZipMember, type MemberSink, type ZipEntry, type ZipIndex } from './zipReader.ts';

export interface NpzArchive {
  file: string;
  index: ZipIndex;
  /** Members by array name (the member name without ".npy", as numpy's NpzFile names them). */
  members: Map<string, ZipEntry>;
  /** The dtype string of each member read so far (e.g. "<f4"), for provenance. */
  dtypes: Map<string, string>;
}

/** Reads the archive's directory (not its members). */
export async function openNpz(file: string): Promise<NpzArchive> {
  const fh = await open(file, 'r');
  try {
    const index = await readZipIndex(fh, file);
    const members = new Map<string, ZipEntry>();
    for (const e of index.entries) {
      const name = e.name.replace(/\.npy$/, '');
      if (members.has(name)) throw new UserInputError(`archive holds array "${name}" twice`, file);
      members.set(name, e);
    }
    return { file, index, members, dtypes: new Map() };
  } finally {
    await fh.close();
  }
}

export function npzHas(npz: NpzArchive, name: string): boolean {
  return npz.members.has(name);
}

/** The dtype string of a member already read with npzTensorF32 ("missing" if there is none). */
export function npzDtype(npz: NpzArchive, name: string): string {
  if (!npz.members.has(name)) return 'missing';
  const d = npz.dtypes.get(name);
  if (d === undefined) throw new Error(`npzDtype: array "${name}" of ${npz.file} has not been read yet`);
  return d;
}

/** Reads one member as f32; a missing member or any problem with it is a UserInputError. */
export async function npzTensorF32(npz: NpzArchive, name: string): Promise<F32Tensor> {
  const entry = npz.members.get(name);
  if (!entry) throw new UserInputError(`missing array "${name}" (found: ${[...npz.members.keys()].join(', ') || 'none'})`, npz.file);
  const fh = await open(npz.file, 'r');
  let member: NpyMember;
  try {
    if ((await fh.stat()).size !== npz.index.fileSize) throw new UserInputError('archive changed while it was being read', npz.file);
    member = new NpyMember(`${npz.file}:${entry.name}`, entry.size);
    await readZipMember(fh, npz.index, entry, member);
  } finally {
    await fh.close();
  }
  const t = member.toF32();
  npz.dtypes.set(name, member.descr);
  return t;
}

/** Every .npy header field ufg needs is in the first 64 KiB (v1 headers cannot be longer). */
const MAX_NPY_HEADER_BYTES = 1 << 16;
/** The largest typed array Node 20 allocates (buffer.constants.MAX_LENGTH there). */
const MAX_ARRAY_BYTES = 2 ** 32;

// Gemma Scope arrays are f32, but exports in f16 and bfloat16 (ml_dtypes writes it as the void
// type "|V2") exist; a general .npy reader rejects those, so SAE members are read here.
const WIDTH: Record<string, number> = { '<f4': 4, '<f8': 8, '<f2': 2, '|V2': 2, '<V2': 2, bfloat16: 2 };

/**
 * Assembles one .npy member from the bytes the zip reader streams in: the header first (into a
 * small buffer), then, once the header's shape × dtype is known to match the member's declared
 * size exactly, the data straight into one buffer of that size.
 */
class NpyMember implements MemberSink {
  descr = '';
  private shape: number[] = [];
  private fortran = false;
  private head = new Uint8Array(10);
  private headFilled = 0;
  private data: Uint8Array | undefined;
  private dataFilled = 0;

  constructor(
    private readonly where: string,
    private readonly declaredBytes: number,
  ) {}

  space(): Uint8Array {
    return this.data ? this.data.subarray(this.dataFilled) : this.head.subarray(this.headFilled);
  }

  filled(n: number): void {
    if (this.data) {
      this.dataFilled += n;
      return;
    }
    this.headFilled += n;
    if (this.headFilled === this.head.byteLength) this.headerProgress();
  }

  /** Called each time `head` is full: grows it to the header's length, or parses it. */
  private headerProgress(): void {
    const bytes = this.head;
    const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
    if (!magic.every((b, i) => bytes[i] === b)) throw new UserInputError('not a .npy array (bad magic)', this.where);
    const major = bytes[6]!;
    if (major !== 1 && major !== 2 && major !== 3) throw new UserInputError(`unsupported .npy format version ${major}`, this.where);
    const start = major === 1 ? 10 : 12;
    if (bytes.byteLength < start) return this.growHead(start);
    const view = new DataView(bytes.buffer);
    const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
    if (start + headerLen > MAX_NPY_HEADER_BYTES) throw new UserInputError(`.npy header of ${headerLen} bytes exceeds the ${MAX_NPY_HEADER_BYTES}-byte limit`, this.where);
    if (bytes.byteLength < start + headerLen) return this.growHead(start + headerLen);
    const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(start));
    const { descr, fortran, shape } = parseHeaderDict(text, this.where);
    if (fortran && shape.length > 2) throw new UserInputError('Fortran-ordered arrays of more than 2 dimensions are not supported; save with C order', this.where);
    const width = WIDTH[descr];
    if (width === undefined) throw new UserInputError(`unsupported dtype ${descr} (expected little-endian f4, f8, f2 or bfloat16)`, this.where);
    const dataBytes = shape.reduce((a, b) => a * b, 1) * width;
    const shapeText = `shape (${shape.join(', ')}) ${descr}`;
    if (!Number.isSafeInteger(dataBytes) || dataBytes > MAX_ARRAY_BYTES) {
      throw new UserInputError(`${shapeText} needs ${dataBytes} bytes, more than the ${MAX_ARRAY_BYTES} ufg reads per array`, this.where);
    }
    if (start + headerLen + dataBytes !== this.declaredBytes) {
      throw new UserInputError(`the archive declares ${this.declaredBytes} bytes for this array but its .npy header (${shapeText}) needs ${start + headerLen + dataBytes}`, this.where);
    }
    this.descr = descr;
    this.shape = shape;
    this.fortran = fortran && shape.length === 2;
    this.data = new Uint8Array(dataBytes);
  }

  private growHead(length: number): void {
    const grown = new Uint8Array(length);
    grown.set(this.head);
    this.head = grown;
  }

  toF32(): F32Tensor {
    // The zip reader delivers exactly the declared bytes, which the header matched; only a member
    // too short to hold its own header ends up here without data.
    if (!this.data) throw new UserInputError(`not a .npy array (${this.headFilled} bytes, too short for a header)`, this.where);
    const width = WIDTH[this.descr]!;
    const count = this.data.byteLength / width;
    let data: Float32Array;
    if (width === 4) data = new Float32Array(this.data.buffer, 0, count);
    else if (width === 8) data = Float32Array.from(new Float64Array(this.data.buffer, 0, count));
    else data = halfToF32(this.data, this.descr === '<f2' ? 'f16' : 'bf16');
    // np.savez of a transposed torch/numpy matrix (e.g. `W.T.numpy()`) writes it column-major.
    if (this.fortran) data = fromColumnMajor(data, this.shape[0]!, this.shape[1]!);
    return { shape: this.shape, data };
  }
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
