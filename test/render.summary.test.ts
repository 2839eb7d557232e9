// The model × model summary picks, per model pair and metric, the layer pair with the best effect:
// the largest for a similarity, the most negative for a distance, never a saturated score or one
// without an effect; a pair with none gets a note saying why.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sweepSummary } from '../pipelines/render/summary.ts';
import type { ModelPairSection, SweepCell, SweepScore } from '../pipelines/render/types.ts';

const score = (effect: number | undefined, extra: Partial<SweepScore> = {}): SweepScore => ({
  observed: 0.5, nullMean: 0.1, p: 0.01, ...(effect !== undefined ? { effect } : {}), artifactId: `sim-${effect}`, ...extra,
});

function cell(layerA: number, layerB: number, rsa: SweepScore, procrustes: SweepScore): SweepCell {
  return { layerA, layerB, svcca: rsa, rsa, scores: { rsa, procrustes }, subspaces: [], counts: [], artifactId: 'x' };
}

const section = (cells: SweepCell[], extra: Partial<ModelPairSection> = {}): ModelPairSection => ({
  a: 'a', b: 'b', modelA: 'A', modelB: 'B', layersA: [1, 2], layersB: [1, 2], cells, ...extra,
});

test('best effect: largest for a similarity, most negative for a distance, saturated and effect-less scores left out', () => {
  const s = section([
    cell(1, 1, score(4), score(-3)),
    cell(1, 2, score(9, { saturated: true }), score(-20, { saturated: true })),
    cell(2, 1, score(7), score(-10)),
    cell(2, 2, score(undefined), score(undefined)),
  ]);
  const [rsa, procrustes] = sweepSummary([s], [{ name: 'rsa' }, { name: 'procrustes', largerIsMoreSimilar: false }]);
  assert.deepEqual([rsa!.best!.layerA, rsa!.best!.layerB, rsa!.best!.score.effect, rsa!.best!.score.artifactId], [2, 1, 7, 'sim-7']);
  assert.deepEqual([procrustes!.best!.layerA, procrustes!.best!.layerB, procrustes!.best!.score.effect], [2, 1, -10]);
});

test('without a best, the entry says why: nothing scored (with the reasons), or every score saturated', () => {
  const none = section([], { control: 'floor', unscored: [{ layerA: 1, layerB: 1, error: '4 pairs after the filters; rsa: 4 pairs, rsa needs at least 5' }] });
  const [e] = sweepSummary([none], [{ name: 'rsa' }]);
  assert.equal(e!.best, undefined);
  assert.equal(e!.control, 'floor');
  assert.equal(e!.note, 'no layer pair scored: 4 pairs after the filters; rsa: 4 pairs, rsa needs at least 5');
  const saturated = section([cell(1, 1, score(5, { saturated: true }), score(-5, { saturated: true }))]);
  assert.equal(sweepSummary([saturated], [{ name: 'rsa' }])[0]!.note, 'every layer pair is saturated or has a null without spread');
});
