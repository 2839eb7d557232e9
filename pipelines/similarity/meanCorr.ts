// Mean matched-column Pearson correlation: column c of x against column c of y over the rows,
// averaged (equal widths only). A constant column correlates 0. O(n·d): no kernel needed.
import type { Measure } from './types.ts';

export const meanCorr: Measure = {
  name: 'mean-corr',
  description: 'mean Pearson correlation of matched columns (equal widths)',
  properties: { symmetric: true, largerIsMoreSimilar: true, invariances: { orthogonal: false, isotropicScaling: true, translation: true, permutationOfColumns: false } },
  minRows: 3,
  equalWidths: true,
  async score(x, y) {
    const n = x.rows, d = x.cols;
    let total = 0;
    for (let c = 0; c < d; c++) {
      let mx = 0, my = 0;
      for (let i = 0; i < n; i++) {
        mx += x.data[i * d + c]!;
        my += y.data[i * d + c]!;
      }
      mx /= n;
      my /= n;
      let sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < n; i++) {
        const a = x.data[i * d + c]! - mx, b = y.data[i * d + c]! - my;
        sxy += a * b;
        sxx += a * a;
        syy += b * b;
      }
      total += sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
    }
    return { score: total / d };
  },
};
