// The model × model summary of an N-model sweep: per model pair and metric, the layer pair with
// the best effect (the largest; the smallest for a distance, where negative = more similar).
// Saturated scores and scores without an effect (a null without spread) cannot be best: they say
// nothing about similarity at their n. Picks among scores the cells hold; computes none.
import type { ModelPairSection, SweepCell, SweepMetric, SweepScore, SweepSummaryEntry } from './types.ts';

function scoreOf(c: SweepCell, name: string): SweepScore | undefined {
  return c.scores?.[name] ?? (name === 'svcca' ? c.svcca : name === 'rsa' ? c.rsa : undefined);
}

export function bestLayerPair(section: Pick<ModelPairSection, 'cells'>, metric: SweepMetric): SweepSummaryEntry['best'] {
  const sign = metric.largerIsMoreSimilar === false ? -1 : 1;
  let best: SweepSummaryEntry['best'];
  for (const c of section.cells) {
    const s = scoreOf(c, metric.name);
    if (!s || s.saturated || s.effect === undefined || !Number.isFinite(s.effect)) continue;
    if (!best || sign * s.effect > sign * best.score.effect!) best = { layerA: c.layerA, layerB: c.layerB, score: s };
  }
  return best;
}

function noBestNote(sec: Pick<ModelPairSection, 'cells' | 'unscored'>): string {
  const why = [...new Set((sec.unscored ?? []).map((u) => u.error))];
  if (sec.cells.length === 0) return why.length > 0 ? `no layer pair scored: ${why.join('; ')}` : 'no layer pair scored';
  return 'every layer pair is saturated or has a null without spread';
}

export function sweepSummary(sections: readonly ModelPairSection[], metrics: readonly SweepMetric[]): SweepSummaryEntry[] {
  return sections.flatMap((sec) =>
    metrics.map((m) => {
      const best = bestLayerPair(sec, m);
      return { a: sec.a, b: sec.b, metric: m.name, ...(sec.control ? { control: sec.control } : {}), ...(best ? { best } : { note: noBestNote(sec) }) };
    }),
  );
}
