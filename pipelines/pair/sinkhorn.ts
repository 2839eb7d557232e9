// Entropic optimal transport between two feature pools (uniform masses, cost = −correlation),
// reduced to a hard map by the argmax of the transport plan, as the original's viewer offers.
import type { Mat } from '../kernels/gemm.ts';
import { gibbsKernel, planArgmax, sinkhornIterations, SINKHORN_ITERATIONS_PER_RUN, type SinkhornState } from '../kernels/sinkhornKernels.ts';

export interface SinkhornOptions {
  /** Entropic regularisation in correlation units; smaller is closer to the exact assignment. */
  epsilon?: number;
  /** Stop when the plan's row sums are within this L1 distance of the marginals. */
  tolerance?: number;
  maxIterations?: number;
}

export interface TransportMap {
  /** For each row (A feature), the column with the largest plan mass, and vice versa. */
  colForRow: Int32Array;
  rowForCol: Int32Array;
  iterations: number;
  rowError: number;
  converged: boolean;
}

export async function sinkhornHardMap(similarity: Mat, opts: SinkhornOptions = {}): Promise<TransportMap> {
  const { rows: n, cols: m } = similarity;
  const epsilon = opts.epsilon ?? 0.05;
  const tolerance = opts.tolerance ?? 1e-4;
  const maxIterations = opts.maxIterations ?? 2000;
  if (!(epsilon > 0)) throw new Error(`epsilon must be positive, got ${epsilon}`);
  const K = await gibbsKernel(similarity.data, n, m, epsilon);
  const a = new Float32Array(n).fill(1 / n), b = new Float32Array(m).fill(1 / m);
  let state: SinkhornState = { u: new Float32Array(n).fill(1), v: new Float32Array(m).fill(1), rowError: Infinity };
  let iterations = 0;
  while (iterations < maxIterations && !(state.rowError <= tolerance)) {
    state = await sinkhornIterations(K, n, m, a, b, state.v);
    iterations += SINKHORN_ITERATIONS_PER_RUN;
    if (!Number.isFinite(state.rowError)) {
      throw new Error(`Sinkhorn scaling overflowed at epsilon ${epsilon}; use a larger epsilon`);
    }
  }
  const map = await planArgmax(K, n, m, state.u, state.v);
  return {
    colForRow: Int32Array.from(map.colForRow, Number),
    rowForCol: Int32Array.from(map.rowForCol, Number),
    iterations,
    rowError: state.rowError,
    converged: state.rowError <= tolerance,
  };
}
