// The rank of each query's true partner among a whole dictionary of candidates, by cosine: one
// ONNX graph per block of queries (scores = queries · candidatesᵀ, then the number of candidates
// scoring strictly above the partner, + 1). Ties count in the partner's favour; with continuous
// scores they have measure zero. The n_queries × F score matrix never leaves the graph.
import { GraphBuilder } from '../kernels/onnxGraph.ts';
import { cachedSession, ort } from '../kernels/session.ts';
import type { Mat } from '../kernels/gemm.ts';
import { unitRows } from '../similarity/matrix.ts';

const BLOCK_BYTES = 64 * 2 ** 20;

function partnerRankGraph(): Uint8Array {
  const g = new GraphBuilder('partner_rank');
  g.input('Q', 'float32', ['h', 'k']);
  g.input('C', 'float32', ['F', 'k']);
  g.input('partner', 'int64', ['h', 1]);
  const s = g.node('Gemm', ['Q', 'C'], 1, { transB: 1 });
  const own = g.node('GatherElements', [s, 'partner'], 1, { axis: 1 });
  const above = g.node('Cast', [g.node('Greater', [s, own])], 1, { to: 6 }); // INT32
  g.node('ReduceSum', [above, g.int64s([1])], ['above'], { keepdims: 0 });
  g.output('above', 'int32', ['h']);
  return g.build();
}

/**
 * ranks[i] = 1 + #{candidates j : cos(q_i, c_j) > cos(q_i, c_partner[i])}: 1 = the partner is the
 * nearest candidate. Queries and candidates are unit-normalised here (zero rows stay zero).
 */
export async function partnerRanks(queries: Mat, candidates: Mat, partner: ArrayLike<number>): Promise<Int32Array> {
  if (queries.cols !== candidates.cols) throw new Error(`queries have ${queries.cols} columns, candidates ${candidates.cols}`);
  if (partner.length !== queries.rows) throw new Error(`${partner.length} partners for ${queries.rows} queries`);
  const s = await cachedSession('retrieval:partnerRank', partnerRankGraph);
  const q = unitRows(queries), c = unitRows(candidates);
  const k = q.cols, n = q.rows;
  const ranks = new Int32Array(n);
  const block = Math.max(1, Math.floor(BLOCK_BYTES / (4 * Math.max(1, c.rows))));
  for (let r0 = 0; r0 < n; r0 += block) {
    const r1 = Math.min(n, r0 + block);
    const idx = new BigInt64Array(r1 - r0);
    for (let i = r0; i < r1; i++) {
      const p = partner[i]!;
      if (!(Number.isInteger(p) && p >= 0 && p < c.rows)) throw new Error(`partner ${p} outside 0..${c.rows - 1}`);
      idx[i - r0] = BigInt(p);
    }
    const out = await s.run({
      Q: new ort.Tensor('float32', q.data.subarray(r0 * k, r1 * k), [r1 - r0, k]),
      C: new ort.Tensor('float32', c.data, [c.rows, k]),
      partner: new ort.Tensor('int64', idx, [r1 - r0, 1]),
    });
    const above = out.above!.data as Int32Array;
    for (let i = r0; i < r1; i++) ranks[i] = above[i - r0]! + 1;
  }
  return ranks;
}
