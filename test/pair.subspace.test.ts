// Semantic subspaces on a small hand-built layer pair: features that fire on known words, B's
// features a permutation of A's with their own magnitudes, B's decoder rows a linear map of the
// matched A rows. Categories, memberships, pairs, scores and skips are all known in advance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyseSubspaces } from '../pipelines/subspace/analyseSubspaces.ts';
import type { PairedScorer, PairedMetric } from '../pipelines/pair/pairedScores.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';
import { pairedScorer } from '../pipelines/similarity/pairedScorer.ts';
import { randomMat } from './similarity.data.ts';

// Words as token sequences; a feature fires on the first token of its word.
const CONCEPTS: Record<string, string[][]> = {
  MonthNames: [[' Jan', 'uary'], [' March'], [' May'], [' June'], [' July'], [' Aug', 'ust'], [' October'], [' December']],
  Biology: [[' dog'], [' cat'], [' horse'], [' bird'], [' fish'], [' cell'], [' gene'], [' brain']],
  Emotions: [[' happy'], [' sad'], [' angry'], [' calm'], [' proud'], [' fear'], [' joy'], [' love']],
  Countries: [[' France'], [' Spain'], [' Italy']],
};
const FILLERS = [[' the'], [' and'], ['.'], [' of']];

function buildCase() {
  const r = seededRandom(42);
  const words = [...Object.values(CONCEPTS).flat(), ...FILLERS.slice(0, 2)]; // 27 + 2 firing features
  const units = [...words, ...FILLERS];
  const tokens: string[] = [];
  const firesAt: number[][] = words.map(() => []);
  while (tokens.length < 2400) {
    const u = Math.floor(r() * units.length);
    if (u < words.length) firesAt[u]!.push(tokens.length);
    tokens.push(...units[u]!);
  }
  const T = tokens.length, F = words.length;
  const perm = Array.from({ length: F }, (_, i) => i).sort(() => r() - 0.5); // B feature j ↔ A feature perm[j]
  const A = new Float32Array(T * F), B = new Float32Array(T * F);
  firesAt.forEach((ps, w) => ps.forEach((p) => (A[p * F + w] = 1 + 3 * r())));
  for (let j = 0; j < F; j++) firesAt[perm[j]!]!.forEach((p) => (B[p * F + j] = A[p * F + perm[j]!]! * (0.6 + 0.8 * r())));
  const dA = 3, dB = 4;
  const WA: Mat = { data: Float32Array.from({ length: F * dA }, () => r() * 2 - 1), rows: F, cols: dA };
  const M = Float32Array.from({ length: dA * dB }, () => r() * 2 - 1);
  const WB: Mat = { data: new Float32Array(F * dB), rows: F, cols: dB };
  for (let j = 0; j < F; j++)
    for (let c = 0; c < dB; c++) {
      let v = 0.02 * (r() - 0.5);
      for (let k = 0; k < dA; k++) v += WA.data[perm[j]! * dA + k]! * M[k * dB + c]!;
      WB.data[j * dB + c] = v;
    }
  const offsets: Record<string, number> = {};
  let o = 0;
  for (const [name, list] of Object.entries(CONCEPTS)) (offsets[name] = o), (o += list.length);
  return { tokens, T, F, perm, A: { data: A, rows: T, cols: F }, B: { data: B, rows: T, cols: F }, WA, WB, offsets };
}

/**
 * Records what analyseSubspaces hands to the similarity measures (the paired decoder rows) and
 * answers with the row count, so the test checks the plumbing, not the measures themselves.
 */
function recordingScorer() {
  const calls: { metric: PairedMetric; x: number[][]; y: number[][]; permutations: number }[] = [];
  const rows = (m: Mat) => Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
  const scorer: PairedScorer = async (metric, x, y, opts) => {
    calls.push({ metric, x: rows(x), y: rows(y), permutations: opts.permutations });
    return { observed: x.rows, nullMean: 0, nullSd: 0, effect: null, p: 1, permutations: opts.permutations, saturated: false };
  };
  return { scorer, calls };
}

test('per category: members, one-to-one pairs, the paired decoder rows scored, skips with reasons', async () => {
  const c = buildCase();
  const { scorer, calls } = recordingScorer();
  const results = await analyseSubspaces({
    a: matrixSource(c.A),
    b: matrixSource(c.B),
    tokens: c.tokens,
    decoderA: c.WA,
    decoderB: c.WB,
    scorer,
    permutations: 200,
  });
  const byName = new Map(results.map((x) => [x.category, x]));
  assert.deepEqual(results.map((x) => x.category), ['Time', 'Calendar', 'People/Roles', 'Nature', 'Emotions', 'MonthNames', 'Countries', 'Biology']);
  for (const [name, list] of Object.entries(CONCEPTS)) {
    const got = byName.get(name)!;
    const wantA = list.map((_, i) => c.offsets[name]! + i);
    assert.deepEqual(got.featuresA, wantA, `${name} A members`);
    const wantB = Array.from({ length: c.F }, (_, j) => j).filter((j) => wantA.includes(c.perm[j]!));
    assert.deepEqual(got.featuresB, wantB, `${name} B members`);
    assert.deepEqual(got.pairsB, wantB, `${name}: every B member paired`);
    assert.deepEqual(got.pairsA, wantB.map((j) => c.perm[j]!), `${name}: with its true A feature`);
    assert.ok(got.meanCorr > 0.8, `${name} mean correlation ${got.meanCorr}`);
  }
  const row = (m: Mat, r: number) => Array.from(m.data.subarray(r * m.cols, (r + 1) * m.cols));
  const scored = ['Emotions', 'MonthNames', 'Biology'];
  assert.deepEqual(calls.map((k) => k.metric), scored.flatMap(() => ['svcca', 'rsa']));
  scored.forEach((name, i) => {
    const got = byName.get(name)!;
    for (const call of [calls[2 * i]!, calls[2 * i + 1]!]) {
      assert.deepEqual(call.x, got.pairsA.map((r) => row(c.WA, r)), `${name}: A decoder rows in pair order`);
      assert.deepEqual(call.y, got.pairsB.map((r) => row(c.WB, r)), `${name}: B decoder rows in pair order`);
      assert.equal(call.permutations, 200);
    }
    assert.deepEqual(got.svcca, { observed: 8, nullMean: 0, nullSd: 0, effect: null, p: 1, permutations: 200, saturated: false });
  });
  assert.deepEqual(byName.get('Countries')!.svcca, { skipped: '3 pairs, svcca needs at least 5' });
  assert.deepEqual(byName.get('Time')!.rsa, { skipped: '0 pairs, rsa needs at least 5' });
  assert.deepEqual(byName.get('Time')!.featuresA, []);
});

test('user categories replace the built-ins; a keyword matches the whole word, not a piece of it', async () => {
  const c = buildCase();
  const results = await analyseSubspaces({
    a: matrixSource(c.A),
    b: matrixSource(c.B),
    tokens: c.tokens,
    decoderA: c.WA,
    decoderB: c.WB,
    scorer: recordingScorer().scorer,
    categories: { Spring: ['march', 'may'], Pieces: ['jan', 'aug'], Long: ['January', 'AUGUST'] },
    permutations: 20,
  });
  const m = c.offsets.MonthNames!;
  assert.deepEqual(results.map((x) => [x.category, x.featuresA]), [['Spring', [m + 1, m + 2]], ['Pieces', []], ['Long', [m, m + 5]]]);
  assert.match((results[0]!.svcca as { skipped: string }).skipped, /^2 pairs/);
});

test('a score that cannot mean anything is stored as skipped with the reason: coarse nulls, saturated SVCCA', async () => {
  const c = buildCase();
  const base = { a: matrixSource(c.A), b: matrixSource(c.B), tokens: c.tokens, decoderA: c.WA, decoderB: c.WB };
  // 10 permutations: p can never be below 1/11, so no subspace is scored (the scorer is not called).
  const coarse = recordingScorer();
  const few = await analyseSubspaces({ ...base, scorer: coarse.scorer, permutations: 10 });
  assert.equal(coarse.calls.length, 0);
  assert.deepEqual(few.find((x) => x.category === 'Biology')!.svcca, { skipped: '8 pairs: a null of 10 permutations cannot reach p ≤ 0.05 (smallest p 0.091)' });
  // 3 pairs have 3! = 6 distinct permutations, whatever N is.
  const three = await analyseSubspaces({ ...base, scorer: recordingScorer().scorer, permutations: 1000, minPairs: { svcca: 3, rsa: 3 } });
  assert.deepEqual(three.find((x) => x.category === 'Countries')!.rsa, { skipped: '3 pairs: a null of 3 rows (3! distinct permutations) cannot reach p ≤ 0.05 (smallest p 0.17)' });
  // Real SVCCA on 8 pairs of 12-wide decoder rows keeps 7 = n − 1 directions: 1 by construction,
  // so it is skipped with the measure's reason; RSA of the same rows is scored.
  const wide = await analyseSubspaces({ ...base, decoderA: randomMat(c.F, 12, 1), decoderB: randomMat(c.F, 12, 2), scorer: pairedScorer, permutations: 50 });
  for (const name of ['MonthNames', 'Biology', 'Emotions']) {
    const got = wide.find((x) => x.category === name)!;
    assert.ok('skipped' in got.svcca, `${name}: SVCCA ${JSON.stringify(got.svcca)}`);
    assert.match(got.svcca.skipped, /^svcca saturated on 8 pairs: kept [67] and [67] directions of (only )?8 rows/);
    assert.ok(!('skipped' in got.rsa) && got.rsa.saturated === false && got.rsa.permutations === 50, `${name}: RSA ${JSON.stringify(got.rsa)}`);
  }
});
