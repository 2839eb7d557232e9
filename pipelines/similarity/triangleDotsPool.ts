// Worker threads for the RSA null's triangle dots (triangleDots.ts): one per core up to
// UFG_RSA_THREADS (default: the cores, at most SEGMENTS), started on first use, unref'd so they
// never keep a process alive. With one thread the segments run here, synchronously.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { addSegments, SEGMENTS, segmentBounds, triangleDotsRange } from './triangleDots.ts';
import type { DotsReply, DotsRequest } from './triangleDotsThread.ts';

const THREADS = Math.max(1, Math.min(SEGMENTS, Number(process.env.UFG_RSA_THREADS) || availableParallelism()));

let workers: Worker[] | undefined;
const pending = new Map<number, { resolve: (sums: Float64Array) => void; reject: (e: Error) => void }>();
let nextId = 1;
let nextKey = 1;

function pool(): Worker[] {
  if (workers) return workers;
  workers = Array.from({ length: THREADS }, () => {
    const w = new Worker(new URL('./triangleDotsThreadBoot.mjs', import.meta.url));
    w.on('message', (reply: DotsReply) => {
      const p = pending.get(reply.id);
      if (!p) return;
      pending.delete(reply.id);
      track(-1);
      if ('error' in reply) p.reject(new Error(reply.error));
      else p.resolve(reply.sums);
    });
    w.on('error', (e) => {
      for (const p of pending.values()) p.reject(e);
      pending.clear();
      for (const other of workers ?? []) if (other !== w) void other.terminate();
      workers = undefined;
    });
    w.unref();
    return w;
  });
  return workers;
}

/** Threads are ref'd while a request is out (so a process waiting on one does not exit), unref'd otherwise. */
function track(delta: number): void {
  const before = pending.size - delta;
  if (before === 0 && pending.size > 0) for (const w of workers ?? []) w.ref();
  if (before > 0 && pending.size === 0) for (const w of workers ?? []) w.unref();
}

export interface TriangleDots {
  /** Σ_{i>j} a[i,j]·b[perm i, perm j] for each permutation. */
  dots(perms: readonly Int32Array[]): Promise<Float64Array>;
  /** Lets the threads drop their references to a and b. */
  close(): void;
}

/**
 * Triangle dots over a (packed, n(n−1)/2) and b (full n×n). With several threads both must live
 * on SharedArrayBuffers (sharedFloat32), which the threads read without a copy.
 */
export function triangleDots(a: Float32Array, b: Float32Array, n: number): TriangleDots {
  const bounds = segmentBounds(n);
  const shared = a.buffer instanceof SharedArrayBuffer && b.buffer instanceof SharedArrayBuffer;
  if (THREADS === 1 || !shared) {
    return {
      dots: async (perms) => addSegments(bounds.slice(0, -1).map((i0, s) => triangleDotsRange(a, b, n, perms, i0, bounds[s + 1]!)), perms.length),
      close() {},
    };
  }
  const key = nextKey++;
  const ws = pool();
  for (const w of ws) w.postMessage({ op: 'open', key, a, b, n } satisfies DotsRequest);
  return {
    async dots(perms) {
      const parts = bounds.slice(0, -1).map(
        (i0, s) =>
          new Promise<Float64Array>((resolve, reject) => {
            const id = nextId++;
            pending.set(id, { resolve, reject });
            track(1);
            ws[s % ws.length]!.postMessage({ op: 'dots', id, key, perms: [...perms], i0, i1: bounds[s + 1]! } satisfies DotsRequest);
          }),
      );
      return addSegments(await Promise.all(parts), perms.length);
    },
    close() {
      for (const w of ws) w.postMessage({ op: 'close', key } satisfies DotsRequest);
    },
  };
}

/** A Float32Array of `length` on a SharedArrayBuffer, so triangle-dots threads can read it. */
export function sharedFloat32(length: number): Float32Array {
  return new Float32Array(new SharedArrayBuffer(4 * length));
}
