// A JSON value with typed arrays inside, as one binary blob: a length-prefixed JSON header in which
// each typed array is replaced by {"$typed": i}, followed by the arrays' bytes (8-byte aligned).
// For checkpoints of long computations: float arrays that JSON text would bloat and round (a
// pairing's holds a GiB accumulator, which writeTypedJsonFile streams to disk).
import { closeSync, ftruncateSync, openSync, writeSync } from 'node:fs';

type Typed = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

const KINDS = { f32: Float32Array, f64: Float64Array, i32: Int32Array, i64: BigInt64Array, u8: Uint8Array } as const;
type Kind = keyof typeof KINDS;

function kindOf(a: ArrayBufferView): Kind | undefined {
  if (a instanceof Float32Array) return 'f32';
  if (a instanceof Float64Array) return 'f64';
  if (a instanceof Int32Array) return 'i32';
  if (a instanceof BigInt64Array) return 'i64';
  if (a instanceof Uint8Array) return 'u8';
  return undefined;
}

/** The blob's parts: its header bytes, and each array with the offset its bytes start at. */
function layout(value: unknown): { head: Uint8Array; arrays: { data: Typed; at: number }[]; size: number } {
  const arrays: { kind: Kind; data: Typed }[] = [];
  const json = JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (ArrayBuffer.isView(v)) {
      const kind = kindOf(v);
      if (!kind) throw new Error(`encodeTypedJson: unsupported typed array ${v.constructor.name}`);
      arrays.push({ kind, data: v as Typed });
      return { $typed: arrays.length - 1 };
    }
    return v;
  });
  const text = JSON.stringify({ json, arrays: arrays.map((a) => ({ kind: a.kind, length: a.data.length })) });
  const head = new Uint8Array(8 + Buffer.byteLength(text));
  new DataView(head.buffer).setBigUint64(0, BigInt(head.byteLength - 8), true);
  new TextEncoder().encodeInto(text, head.subarray(8));
  const align = (n: number) => Math.ceil(n / 8) * 8;
  let size = align(head.byteLength);
  const placed = arrays.map((a) => {
    const at = size;
    size += align(a.data.byteLength);
    return { data: a.data, at };
  });
  return { head, arrays: placed, size };
}

const bytesOf = (a: Typed) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

export function encodeTypedJson(value: unknown): Uint8Array {
  const { head, arrays, size } = layout(value);
  const out = new Uint8Array(size);
  out.set(head);
  for (const a of arrays) out.set(bytesOf(a.data), a.at);
  return out;
}

/**
 * encodeTypedJson's bytes written to `path` (created, or replaced) straight from the arrays, with
 * no blob of their size in memory: for a checkpoint holding a GiB accumulator. Not atomic and not
 * synced: the caller moves the finished file into place (ArtifactWriter.writeWithPath does both).
 */
export function writeTypedJsonFile(path: string, value: unknown): void {
  const { head, arrays, size } = layout(value);
  const fd = openSync(path, 'w');
  try {
    writeSync(fd, head, 0, head.byteLength, 0);
    for (const a of arrays) writeSync(fd, bytesOf(a.data), 0, a.data.byteLength, a.at);
    // The last array's padding, so the file has encodeTypedJson's length.
    ftruncateSync(fd, size);
  } finally {
    closeSync(fd);
  }
}

export function decodeTypedJson<T>(bytes: Uint8Array): T {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const head = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as { json: string; arrays: { kind: Kind; length: number }[] };
  const align = (x: number) => Math.ceil(x / 8) * 8;
  let at = align(8 + n);
  const arrays = head.arrays.map(({ kind, length }) => {
    const C = KINDS[kind];
    const bytesLen = length * C.BYTES_PER_ELEMENT;
    const copy = bytes.slice(at, at + bytesLen); // aligned and owned
    at += align(bytesLen);
    return new C(copy.buffer, 0, length);
  });
  return JSON.parse(head.json, (_key, v: unknown) => (v && typeof v === 'object' && '$typed' in v ? arrays[(v as { $typed: number }).$typed] : v)) as T;
}
