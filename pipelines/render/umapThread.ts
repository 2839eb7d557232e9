// One UMAP layout optimisation in a thread of its own (umapLayout.ts): umap-js is plain JS for
// seconds per panel, so the two panels of a feature map lay out side by side, off the activity's
// thread. Given the neighbour graph, returns the 2-D embedding and exits.
import { parentPort, workerData } from 'node:worker_threads';
import { UMAP } from 'umap-js';
import { seededRandom } from '../random.ts';

export interface UmapJob {
  n: number;
  nNeighbors: number;
  minDist: number;
  seed: number;
  nEpochs?: number;
  indices: number[][];
  distances: number[][];
}

const job = workerData as UmapJob;
const umap = new UMAP({
  nComponents: 2,
  nNeighbors: job.nNeighbors,
  minDist: job.minDist,
  random: seededRandom(job.seed),
  ...(job.nEpochs !== undefined ? { nEpochs: job.nEpochs } : {}),
});
umap.setPrecomputedKNN(job.indices, job.distances);
// umap-js only reads X's length once neighbours are given; pass small placeholder rows.
const epochs = umap.initializeFit(Array.from({ length: job.n }, () => [0]));
for (let e = 0; e < epochs; e++) umap.step();
parentPort!.postMessage(umap.getEmbedding().map((p) => [p[0]!, p[1]!]));
