// 2-D UMAP of decoder directions. Neighbours come from cosineKnn (ONNX Runtime); umap-js then
// builds the fuzzy graph and optimises the layout with a seeded generator, so the same rows and
// seed always give the same coordinates.
import { UMAP } from 'umap-js';
import type { Mat } from '../kernels/gemm.ts';
import { cosineKnn } from './cosineKnn.ts';
import { throwIfAborted } from '../kernels/session.ts';
import { seededRandom } from '../random.ts';

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
  const umap = new UMAP({
    nComponents: 2,
    nNeighbors,
    minDist: opts.minDist ?? 0.1,
    random: seededRandom(opts.seed ?? 42),
    ...(opts.nEpochs !== undefined ? { nEpochs: opts.nEpochs } : {}),
  });
  umap.setPrecomputedKNN(knn.indices, knn.distances);
  // umap-js only reads X's length once neighbours are given; pass small placeholder rows.
  const placeholder = Array.from({ length: n }, () => [0]);
  // Epoch by epoch (what fit() does in one go), yielding now and then: the layout is JS work on
  // the activity's thread, which must keep heartbeating and hear a cancellation.
  const epochs = umap.initializeFit(placeholder);
  for (let e = 0; e < epochs; e++) {
    umap.step();
    if (e % 25 === 24) {
      await new Promise((r) => setImmediate(r));
      throwIfAborted();
    }
  }
  return umap.getEmbedding().map((p) => [p[0]!, p[1]!]);
}
