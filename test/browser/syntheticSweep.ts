// A seeded sweep report over a small layer grid, with one model name that is an XSS attempt.
import { seededRandom } from '../../pipelines/random.ts';
import type { SweepReportData, SweepScore } from '../../pipelines/render/types.ts';

export function syntheticSweep(layersA = [0, 1, 2, 3], layersB = [0, 1, 2, 3, 4, 5], seed = 3): SweepReportData {
  const rand = seededRandom(seed);
  const score = (base: number, id: string): SweepScore => {
    const observed = Math.max(-0.2, Math.min(1, base + 0.1 * (rand() - 0.5)));
    return { observed, nullMean: 0.05 * rand(), nullSd: 0.02, p: observed > 0.2 ? 1 / 1001 : 0.2 + 0.5 * rand(), artifactId: id };
  };
  const cells = layersA.flatMap((la) =>
    layersB.map((lb) => {
      // Scores peak where the relative depths match, as in the paper's figures.
      const base = 0.9 - 1.2 * Math.abs(la / Math.max(1, layersA.length - 1) - lb / Math.max(1, layersB.length - 1));
      return {
        layerA: la,
        layerB: lb,
        svcca: score(base, `svcca-${la}-${lb}-a1b2c3`),
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
