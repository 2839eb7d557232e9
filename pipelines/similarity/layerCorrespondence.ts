// Layer correspondence: for each layer of A, the layer of B whose score stands furthest above its
// null (the largest effect; for distances the most negative), with bootstrap intervals over
// features. Each layer pair brings its effect and `resamples` bootstrap effects (its score on
// resampled paired rows, against the same row-permutation null: the interval is over which
// features were paired, the null held fixed). Replicate k of every B layer picks that replicate's
// best B layer, so the spread of the chosen layer is an interval too.
import { quantile } from './bootstrap.ts';

export interface CorrespondenceCell {
  layerA: number;
  layerB: number;
  effect: number;
  /** The effect of each bootstrap resample (same length for every cell). */
  bootstrapEffects: ArrayLike<number>;
}

export interface CorrespondenceRow {
  layerA: number;
  /** The B layer with the largest (similarity-signed) effect. */
  bestB: number;
  effect: number;
  /** Central `level` bootstrap interval of the best layer's effect. */
  effectLow: number;
  effectHigh: number;
  /** Central `level` interval of the best B layer over the replicates (layer indices). */
  bestBLow: number;
  bestBHigh: number;
  /** Share of replicates whose best B layer is `bestB`. */
  bestShare: number;
  /** B layers compared. */
  candidates: number;
}

/** Layers are categories on a line: the interval's ends are order statistics, never between two layers. */
function layerInterval(chosen: number[], lo: number): { bestBLow: number; bestBHigh: number } {
  const v = [...chosen].sort((x, y) => x - y);
  if (v.length === 0) return { bestBLow: Number.NaN, bestBHigh: Number.NaN };
  return { bestBLow: v[Math.floor(lo * (v.length - 1))]!, bestBHigh: v[Math.ceil((1 - lo) * (v.length - 1))]! };
}

export function layerCorrespondence(cells: readonly CorrespondenceCell[], largerIsMoreSimilar: boolean, level = 0.95): CorrespondenceRow[] {
  const sign = largerIsMoreSimilar ? 1 : -1;
  const byA = new Map<number, CorrespondenceCell[]>();
  for (const c of cells) if (Number.isFinite(c.effect)) byA.set(c.layerA, [...(byA.get(c.layerA) ?? []), c]);
  const lo = (1 - level) / 2;
  const rows: CorrespondenceRow[] = [];
  for (const [layerA, row] of [...byA].sort((x, y) => x[0] - y[0])) {
    const best = row.reduce((b, c) => (sign * c.effect > sign * b.effect ? c : b));
    const k = Math.min(...row.map((c) => c.bootstrapEffects.length));
    const chosen: number[] = [];
    for (let r = 0; r < k; r++) {
      let pick = row[0]!;
      for (const c of row) if (sign * c.bootstrapEffects[r]! > sign * pick.bootstrapEffects[r]!) pick = c;
      chosen.push(pick.layerB);
    }
    rows.push({
      layerA,
      bestB: best.layerB,
      effect: best.effect,
      effectLow: quantile(best.bootstrapEffects, lo),
      effectHigh: quantile(best.bootstrapEffects, 1 - lo),
      ...layerInterval(chosen, lo),
      bestShare: k === 0 ? Number.NaN : chosen.filter((b) => b === best.layerB).length / k,
      candidates: row.length,
    });
  }
  return rows;
}
