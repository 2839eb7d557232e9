// A JSON value with typed arrays inside, as one binary blob: a length-prefixed JSON header in which
// each typed array is replaced by {"$typed": i}, followed by the arrays' bytes (8-byte aligned).
// For checkpoints of long computations: small states, but with float arrays that JSON text would
// bloat and round.
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

export function encodeTypedJson(value: unknown): Uint8Array {
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
  const head = new TextEncoder().encode(JSON.stringify({ json, arrays: arrays.map((a) => ({ kind: a.kind, length: a.data.length })) }));
  const align = (n: number) => Math.ceil(n / 8) * 8;
  let size = align(8 + head.byteLength);
  const offsets = arrays.map((a) => {
    const at = size;
    size += align(a.data.byteLength);
    return at;
  });
  const out = new Uint8Array(size);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.byteLength), true);
  out.set(head, 8);
  arrays.forEach((a, i) => out.set(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), offsets[i]!));
  return out;
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
