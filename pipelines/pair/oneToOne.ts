// One-to-one pairing on a pool of the most active features: the pool's correlation matrix
// (streamed, small enough to hold), then the Hungarian assignment or an entropic-OT hard map on
// it — or, for `decoder`, the Hungarian assignment on the pool's decoder cosines (no activation
// enters the choice; the correlation matrix still gives each assigned pair its correlation, so
// the filters and means downstream mean what they mean for the other methods).
import type { Mat } from '../kernels/gemm.ts';
import { featureSubsetSource, type ActivationSource } from './activationSource.ts';
import { decoderAssignment } from './decoderPairing.ts';
import { maxWeightAssignment } from './hungarian.ts';
import { sinkhornHardMap, type SinkhornOptions } from './sinkhorn.ts';
import { correlateFeatures, type CorrelationKind } from './streamingCorrelation.ts';

export type OneToOneMethod = 'hungarian' | 'ot' | 'decoder';

export const DEFAULT_POOL_SIZE = 3000;

/** Indices of the `n` features with the highest mean activation (ties by index), ascending. */
export function mostActiveFeatures(meanActivation: ArrayLike<number>, n: number): number[] {
  const idx = Array.from({ length: meanActivation.length }, (_, i) => i);
  if (n >= idx.length) return idx;
  idx.sort((x, y) => meanActivation[y]! - meanActivation[x]! || x - y);
  return idx.slice(0, n).sort((x, y) => x - y);
}

export interface OneToOnePairing {
  method: OneToOneMethod;
  poolA: number[];
  poolB: number[];
  /** Original feature indices; -1 where a feature is outside the pool or left unassigned. */
  aForEachB: Int32Array;
  bForEachA: Int32Array;
  /** Correlation of each assigned pair, NaN where unassigned. */
  corrForEachB: Float32Array;
  corrForEachA: Float32Array;
  /** Sum of the assigned correlations (decoder: of the assigned decoder cosines, the maximised objective). */
  total: number;
  /** For `ot`: Sinkhorn iterations run and whether the marginals converged. */
  iterations?: number;
  converged?: boolean;
}

export interface OneToOneOptions {
  method: OneToOneMethod;
  poolA: number[];
  poolB: number[];
  kind?: CorrelationKind;
  memoryBudgetBytes?: number;
  sinkhorn?: SinkhornOptions;
  /** decoder: both SAEs' decoder rows (F × d, one d), indexed by original feature. */
  decoders?: { a: Mat; b: Mat };
}

export async function pairOneToOne(a: ActivationSource, b: ActivationSource, opts: OneToOneOptions): Promise<OneToOnePairing> {
  const { poolA, poolB } = opts;
  const pooled = await correlateFeatures(featureSubsetSource(a, poolA), featureSubsetSource(b, poolB), {
    kind: opts.kind ?? 'pearson',
    keepMatrix: true,
    ...(opts.memoryBudgetBytes !== undefined ? { memoryBudgetBytes: opts.memoryBudgetBytes } : {}),
  });
  const C = pooled.matrix!;
  let colForRow: Int32Array, rowForCol: Int32Array;
  let extra: { iterations?: number; converged?: boolean } = {};
  let decoderTotal: number | undefined;
  if (opts.method === 'hungarian') {
    ({ colForRow, rowForCol } = maxWeightAssignment(C));
  } else if (opts.method === 'decoder') {
    if (!opts.decoders) throw new Error('decoder pairing needs both decoders');
    const d = await decoderAssignment(opts.decoders.a, opts.decoders.b, poolA, poolB);
    ({ colForRow, rowForCol } = d);
    decoderTotal = d.total;
  } else {
    const map = await sinkhornHardMap(C, opts.sinkhorn);
    ({ colForRow, rowForCol } = map);
    extra = { iterations: map.iterations, converged: map.converged };
  }
  const aForEachB = new Int32Array(b.numFeatures).fill(-1), bForEachA = new Int32Array(a.numFeatures).fill(-1);
  const corrForEachB = new Float32Array(b.numFeatures).fill(NaN), corrForEachA = new Float32Array(a.numFeatures).fill(NaN);
  let total = 0;
  rowForCol.forEach((i, j) => {
    if (i < 0) return;
    const c = C.data[i * C.cols + j]!;
    aForEachB[poolB[j]!] = poolA[i]!;
    corrForEachB[poolB[j]!] = c;
    if (opts.method === 'hungarian') total += c;
  });
  colForRow.forEach((j, i) => {
    if (j < 0) return;
    bForEachA[poolA[i]!] = poolB[j]!;
    corrForEachA[poolA[i]!] = C.data[i * C.cols + j]!;
  });
  // A transport hard map need not be a bijection; its total is over the B side's picks.
  if (opts.method === 'ot') total = Array.from(corrForEachB).reduce((s, v) => (Number.isNaN(v) ? s : s + v), 0);
  if (decoderTotal !== undefined) total = decoderTotal;
  return { method: opts.method, poolA, poolB, aForEachB, bForEachA, corrForEachB, corrForEachA, total, ...extra };
}
