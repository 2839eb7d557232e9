// What crosses between the activity's thread and a compute thread. Tensors travel as type, dims
// and a typed array that owns its whole buffer, so it can be transferred (moved, not copied): a
// view into a larger buffer is copied first (structured clone would otherwise send the whole
// underlying buffer), and so is any caller-owned array, which must stay usable.
import * as ort from 'onnxruntime-node';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array;

export interface WireTensor {
  type: ort.Tensor.Type;
  dims: readonly number[];
  data: TensorData;
}

export function toWire(t: ort.Tensor, transfer: ArrayBuffer[]): WireTensor {
  const data = (t.data as TensorData).slice() as TensorData;
  transfer.push(data.buffer as ArrayBuffer);
  return { type: t.type, dims: t.dims, data };
}

/** An output of the thread: ORT allocated its buffer for this run, so it moves as it is. */
export function toWireOwned(t: ort.Tensor, transfer: ArrayBuffer[]): WireTensor {
  const src = t.data as TensorData;
  const whole = src.byteOffset === 0 && src.byteLength === src.buffer.byteLength && !(src.buffer instanceof SharedArrayBuffer);
  const data = whole ? src : (src.slice() as TensorData);
  transfer.push(data.buffer as ArrayBuffer);
  return { type: t.type, dims: t.dims, data };
}

export function fromWire(w: WireTensor): ort.Tensor {
  return new ort.Tensor(w.type, w.data as never, w.dims);
}

/** Buffers of the typed arrays inside a job's result (not views of a larger buffer), to transfer. */
export function transferablesOf(value: unknown, out: ArrayBuffer[] = [], seen = new Set<unknown>()): ArrayBuffer[] {
  if (value === null || typeof value !== 'object' || seen.has(value)) return out;
  seen.add(value);
  if (ArrayBuffer.isView(value)) {
    const b = value.buffer;
    if (b instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === b.byteLength && !out.includes(b)) out.push(b);
    return out;
  }
  for (const v of Array.isArray(value) ? value : Object.values(value)) transferablesOf(v, out, seen);
  return out;
}

export interface WireError {
  message: string;
  name: string;
  /** The file a UserInputError names. */
  file?: string;
}

export type Request =
  | { op: 'run'; id: number; key: string; model?: Uint8Array; arena?: boolean; feeds: Record<string, WireTensor>; fetches?: string[] }
  | { op: 'job'; id: number; module: string; fn: string; args: unknown }
  | { op: 'abort'; id: number }
  | { op: 'releaseArenas'; id: number };

export type Reply =
  | { id: number; kind: 'done'; outputs?: Record<string, WireTensor>; result?: unknown; error?: WireError }
  | { id: number; kind: 'progress'; progress: unknown };
