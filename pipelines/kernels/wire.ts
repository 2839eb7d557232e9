// Tensors as they cross between the activity's thread and a compute thread: type, dims and a
// typed array that owns its whole buffer, so it can be transferred (moved, not copied) in a
// postMessage. A view into a larger buffer is copied first — structured clone would otherwise
// send the whole underlying buffer — and so is any caller-owned array, which must stay usable.
import * as ort from 'onnxruntime-node';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Uint16Array | Uint8Array;

export interface WireTensor {
  type: ort.Tensor.Type;
  dims: readonly number[];
  data: TensorData;
}

export function toWire(t: ort.Tensor, transfer: ArrayBuffer[]): WireTensor {
  const src = t.data as TensorData;
  const data = src.slice() as TensorData;
  transfer.push(data.buffer as ArrayBuffer);
  return { type: t.type, dims: t.dims, data };
}

/** An output of the thread: its buffer is ours alone already (ORT allocated it for this run). */
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

export type Request =
  | { op: 'run'; id: number; key: string; model?: Uint8Array; options: ort.InferenceSession.SessionOptions; feeds: Record<string, WireTensor>; fetches?: string[] }
  | { op: 'release'; id: number; key: string };

export type Reply = { id: number; outputs?: Record<string, WireTensor>; error?: { message: string; name: string } };
