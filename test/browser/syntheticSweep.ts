// A seeded sweep report over a small layer grid, with one model name that is an XSS attempt.
// Every score carries an effect and a q as the pipeline gives them (q is Benjamini–Hochberg over
// all scores of the sweep); one SVCCA cell is saturated; SVCCA cell (0, 5) has p ≤ 0.05 but
// q > 0.05 (no star), cell (1, 2) has q ≤ 0.05 (a star).
import { seededRandom } from '../../pipelines/random.ts';
import type { SweepCell, SweepReportData, SweepScore } from '../../pipelines/render/types.ts';
import { benjaminiHochberg } from '../../pipelines/similarity/multipleTesting.ts';

export const SATURATED_CELL = { layerA: 0, layerB: 0 } as const;
export const SATURATED_REASON = 'kept 9 and 9 directions of 10 rows: 9 directions span every centred row set, so every canonical correlation is 1 by construction';
/** p ≤ 0.05 but q > 0.05 after the sweep-wide correction: must not be starred. */
export const P_BUT_NOT_Q = { layerA: 0, layerB: 5 } as const;

export function syntheticSweep(layersA = [0, 1, 2, 3], layersB = [0, 1, 2, 3, 4, 5], seed = 3): SweepReportData {
  const rand = seededRandom(seed);
  const all: SweepScore[] = [];
  const score = (base: number, id: string, p?: number): SweepScore => {
    const observed = Math.max(-0.2, Math.min(1, base + 0.1 * (rand() - 0.5)));
    const nullMean = 0.05 * rand();
    const s: SweepScore = { observed, nullMean, nullSd: 0.02, effect: (observed - nullMean) / 0.02, p: p ?? (observed > 0.2 ? 1 / 1001 : 0.2 + 0.5 * rand()), artifactId: id };
    all.push(s);
    return s;
  };
  const cells: SweepCell[] = layersA.flatMap((la) =>
    layersB.map((lb) => {
      // Scores peak where the relative depths match, as in the paper's figures.
      const base = 0.9 - 1.2 * Math.abs(la / Math.max(1, layersA.length - 1) - lb / Math.max(1, layersB.length - 1));
      const isSaturated = la === SATURATED_CELL.layerA && lb === SATURATED_CELL.layerB;
      const svcca = score(isSaturated ? 1.05 : base, `svcca-${la}-${lb}-a1b2c3`, la === P_BUT_NOT_Q.layerA && lb === P_BUT_NOT_Q.layerB ? 0.04 : undefined);
      if (isSaturated) Object.assign(svcca, { saturated: true, saturatedReason: SATURATED_REASON, p: 0.6 });
      return {
        layerA: la,
        layerB: lb,
        svcca,
        rsa: score(base * 0.6, `rsa-${la}-${lb}-d4e5f6`),
        subspaces: ['Time', 'Nature', 'People/Roles'].map((name, k) => ({
          name,
          n: 20 + k * 7,
          svcca: score(base - 0.1 * k, `sub-svcca-${name}-${la}-${lb}`),
          rsa: score(base * 0.5, `sub-rsa-${name}-${la}-${lb}`),
        })),
        counts: [
          { stage: 'all B features', count: 4096 },
          { stage: 'concept tokens', count: 2900 + Math.floor(rand() * 300), artifactId: `filter-${la}-${lb}` },
          { stage: 'one-to-one', count: 1800 + Math.floor(rand() * 200) },
          { stage: 'corr > 0.1', count: 1200 + Math.floor(rand() * 200) },
        ],
        featureMap: `maps/A${la}_B${lb}.html`,
        artifactId: `result-${la}-${lb}-0f9e8d`,
      };
    }),
  );
  cells[1]?.subspaces.push({ name: 'Countries', n: 3, skipped: { svcca: '3 pairs, svcca needs at least 5', rsa: '3 pairs, rsa needs at least 5' } });
  const q = benjaminiHochberg(all.map((s) => s.p));
  all.forEach((s, i) => (s.q = q[i]!));
  return {
    kind: 'ufg.sweepReport',
    version: 1,
    modelA: 'EleutherAI/pythia-70m <img src=x onerror="window.__xss=1">',
    modelB: 'EleutherAI/pythia-160m',
    layersA,
    layersB,
    cells,
    sweepId: 'sweep-2026-11-24-abc',
    createdAt: '2026-11-24T19:00:00Z',
  };
}
