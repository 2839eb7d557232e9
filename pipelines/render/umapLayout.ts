// 2-D UMAP of decoder directions. Neighbours come from cosineKnn (ONNX Runtime); umap-js then
// builds the fuzzy graph and optimises the layout with a seeded generator, so the same rows and
// seed always give the same coordinates. The optimisation (seconds of plain JS) runs in a thread
// of its own (umapThread.ts): the activity's thread keeps heartbeating, and layouts run side by side.
import { Worker } from 'node:worker_threads';
import type { Mat } from '../kernels/gemm.ts';
import { cosineKnn } from './cosineKnn.ts';
import { currentAbortSignal, throwIfAborted } from '../kernels/session.ts';
import type { UmapJob } from './umapThread.ts';

export interface UmapOptions {
  seed?: number;
  nNeighbors?: number;
  minDist?: number;
  /** umap-js default: 500 for < 10 000 points. */
  nEpochs?: number;
}

export async function umapLayout(rows: Mat, opts: UmapOptions = {}): Promise<Array<[number, number]>> {
  const n = rows.rows;
  if (n === 0) return [];
  // Too few points for a neighbour graph: spread them on a line, still deterministic.
  if (n < 4) return Array.from({ length: n }, (_, i) => [i, 0]);
  const nNeighbors = Math.min(opts.nNeighbors ?? 15, n - 1);
  const knn = await cosineKnn(rows, nNeighbors);
  throwIfAborted();
  const job: UmapJob = {
    n,
    nNeighbors,
    minDist: opts.minDist ?? 0.1,
    seed: opts.seed ?? 42,
    ...(opts.nEpochs !== undefined ? { nEpochs: opts.nEpochs } : {}),
    indices: knn.indices,
    distances: knn.distances,
  };
  return layoutInThread(job);
}

function layoutInThread(job: UmapJob): Promise<Array<[number, number]>> {
  const signal = currentAbortSignal();
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./umapThreadBoot.mjs', import.meta.url), { workerData: job });
    const onAbort = () => {
      void worker.terminate();
      reject(signal?.reason instanceof Error ? signal.reason : new Error('UMAP layout aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const settle = () => signal?.removeEventListener('abort', onAbort);
    worker.once('message', (coords: Array<[number, number]>) => {
      settle();
      resolve(coords);
    });
    worker.once('error', (e) => {
      settle();
      reject(e);
    });
    worker.once('exit', (code) => {
      settle();
      if (code !== 0) reject(new Error(`UMAP layout thread exited with code ${code}`));
    });
  });
}
