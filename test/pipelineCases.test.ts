// The whole chain for one layer pair against test/reference/pipeline_cases.json, in both
// modes: counts after every filter stage, kept pairs, mean correlations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { pairAndFilterLayer } from '../pipelines/pair/pairLayer.ts';
import { NONCONCEPT_TOKENS, type FilterMode } from '../pipelines/pair/filters.ts';
import { pairedScorer } from '../pipelines/similarity/pairedScorer.ts';
import { gatherRows } from '../pipelines/similarity/matrix.ts';
import { pipelineCasesFile, toMat } from './reference.ts';

interface Expected {
  mean_actv_corr: number;
  num_feat_unique_beforeFilt: number;
  total_feats_beforeFilt: number;
  num_feat_after_rmv_kw: number;
  num_feat_1_to_1: number;
  num_feat_after_rmv_lowCorr: number;
  mean_actv_corr_filt: number;
  pairs_a: number[];
  pairs_b: number[];
  svcca_paired: number;
  rsa_paired: number;
}
interface PipelineCase {
  name: string;
  tokens: string[];
  A: number[][];
  B: number[][];
  WA: number[][];
  WB: number[][];
  reference: Expected;
  described: Expected;
}
const file = pipelineCasesFile<{ nonconcept_tokens: string[]; cases: PipelineCase[] }>();

test('the built-in non-concept token list is the reference list', () => {
  assert.deepEqual([...NONCONCEPT_TOKENS], file.nonconcept_tokens);
});

for (const c of file.cases) {
  test(`${c.name}: the described label rule gives the reference rule's tokens on these features`, async () => {
    const [d, r] = await Promise.all(
      (['described', 'reference'] as const).map((mode) => pairAndFilterLayer(matrixSource(toMat(c.A)), matrixSource(toMat(c.B)), c.tokens, { mode, tokenChunk: 256 })),
    );
    assert.deepEqual(d!.topTokensA, r!.topTokensA);
    assert.deepEqual(d!.topTokensB, r!.topTokensB);
  });

  for (const mode of ['reference', 'described'] as FilterMode[]) {
    test(`${c.name} (${mode}): counts after every stage, kept pairs and means`, async () => {
      const e = c[mode];
      // A small token chunk so the top-5 tokens and the sums really are merged across chunks.
      const r = await pairAndFilterLayer(matrixSource(toMat(c.A)), matrixSource(toMat(c.B)), c.tokens, { mode, tokenChunk: 256 });
      assert.deepEqual(r.counts, {
        total: e.total_feats_beforeFilt,
        uniqueA: e.num_feat_unique_beforeFilt,
        afterKeywords: e.num_feat_after_rmv_kw,
        afterOneToOne: e.num_feat_1_to_1,
        afterLowCorrelation: e.num_feat_after_rmv_lowCorr,
      });
      assert.deepEqual(r.pairsA, e.pairs_a);
      assert.deepEqual(r.pairsB, e.pairs_b);
      assert.ok(Math.abs(r.meanCorr - e.mean_actv_corr) < 1e-6, `mean ${r.meanCorr} vs ${e.mean_actv_corr}`);
      assert.ok(Math.abs(r.meanCorrFiltered - e.mean_actv_corr_filt) < 1e-6, `filtered mean ${r.meanCorrFiltered} vs ${e.mean_actv_corr_filt}`);
      // These features fire often enough that labels from firing positions are the top-5 tokens
      // over all positions: no feature goes unlabelled (docs/design.md, reference data).
      assert.deepEqual(r.labelCounts, { unlabelledA: 0, unlabelledB: 0 });
      // The textbook means differ from the original's by about (T-1)/T.
      const T = c.tokens.length;
      assert.ok(Math.abs(r.meanPearson * (T - 1) / T - r.meanCorr) < 1e-6);
    });

    test(`${c.name} (${mode}): SVCCA and RSA of the kept pairs' decoder rows`, async () => {
      const e = c[mode];
      // svcca_paired / rsa_paired score WA[pairs_a] against WB[pairs_b] (row i ↔ row i): the
      // original's SVCCA (one component) and p in reference mode, the textbook SVCCA otherwise.
      const x = gatherRows(toMat(c.WA), e.pairs_a), y = gatherRows(toMat(c.WB), e.pairs_b);
      const opts = { mode, permutations: 50, seed: 1 };
      const svcca = await pairedScorer('svcca', x, y, opts);
      const rsa = await pairedScorer('rsa', x, y, opts);
      assert.ok(Math.abs(svcca.observed - e.svcca_paired) < 1e-4, `svcca ${svcca.observed} vs ${e.svcca_paired}`);
      assert.ok(Math.abs(rsa.observed - e.rsa_paired) < 1e-4, `rsa ${rsa.observed} vs ${e.rsa_paired}`);
      for (const s of [svcca, rsa]) {
        assert.equal(s.permutations, 50);
        // described: p ∈ [1/51, 1]; reference: a multiple of 1/50 that may be 0.
        assert.ok(mode === 'described' ? s.p >= 1 / 51 && s.p <= 1 : Math.abs(s.p * 50 - Math.round(s.p * 50)) < 1e-9, `p = ${s.p}`);
      }
    });
  }
}
