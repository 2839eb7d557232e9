// A triangle-dots worker thread: keeps the shared rank arrays of each open RSA null (by key) and
// computes one segment of a batch's sums per request.
import { parentPort } from 'node:worker_threads';
import { triangleDotsRange } from './triangleDots.ts';

export type DotsRequest =
  | { op: 'open'; key: number; a: Float32Array; b: Float32Array; n: number }
  | { op: 'close'; key: number }
  | { op: 'dots'; id: number; key: number; perms: Int32Array[]; i0: number; i1: number };

export type DotsReply = { id: number; sums: Float64Array } | { id: number; error: string };

const port = parentPort!;
const open = new Map<number, { a: Float32Array; b: Float32Array; n: number }>();

port.on('message', (req: DotsRequest) => {
  if (req.op === 'open') open.set(req.key, { a: req.a, b: req.b, n: req.n });
  else if (req.op === 'close') open.delete(req.key);
  else {
    const arrays = open.get(req.key);
    if (!arrays) {
      port.postMessage({ id: req.id, error: `triangle dots: null ${req.key} is not open` } satisfies DotsReply);
      return;
    }
    const sums = triangleDotsRange(arrays.a, arrays.b, arrays.n, req.perms, req.i0, req.i1);
    port.postMessage({ id: req.id, sums } satisfies DotsReply, [sums.buffer as ArrayBuffer]);
  }
});
