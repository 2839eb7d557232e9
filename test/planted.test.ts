import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { featureSubsetSource } from '../pipelines/pair/activationSource.ts';
import { correlateFeatures } from '../pipelines/pair/streamingCorrelation.ts';
import { residualMatrix, saeActivationSource } from '../pipelines/sae/activationSource.ts';
import { loadSae } from '../pipelines/sae/loadSae.ts';
import { gatherRows } from '../pipelines/similarity/matrix.ts';
import { permutationNull } from '../pipelines/similarity/permutationNull.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { plantedUniverse } from './fixtures/planted.ts';
import { permutationOf, seededRandom } from '../pipelines/random.ts';
import { generateSaeFixtures, saeFolder, type SaeFixtureSet } from './fixtures/saes.ts';

let dir: string;
let fx: SaeFixtureSet;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ufg-planted-'));
  fx = await generateSaeFixtures(join(dir, 'fx'), { modelA: { d: 64, layers: 2 }, modelB: { d: 96, layers: 3 } });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A token stream over the planted vocabulary and the two models' residuals for it. */
function residualsFor(T: number, seed: number): { a: Mat; b: Mat } {
  const r = seededRandom(seed);
  const { embeddingsA: eA, embeddingsB: eB, options } = fx.universe;
  const a = mat(T, eA.cols);
  const b = mat(T, eB.cols);
  for (let t = 0; t < T; t++) {
    const tok = Math.floor(r() * options.vocabSize);
    a.data.set(eA.data.subarray(tok * eA.cols, (tok + 1) * eA.cols), t * eA.cols);
    b.data.set(eB.data.subarray(tok * eB.cols, (tok + 1) * eB.cols), t * eB.cols);
  }
  return { a, b };
}

test('planted universe: dictB is the permuted image of dictA and embeddings are codes · dict', () => {
  const u = plantedUniverse({ seed: 3, vocabSize: 40, dA: 6, dB: 9, numShared: 5, noise: 0 });
  const again = plantedUniverse({ seed: 3, vocabSize: 40, dA: 6, dB: 9, numShared: 5, noise: 0 });
  assert.deepEqual(Array.from(u.dictB.data), Array.from(again.dictB.data), 'deterministic');
  // Dictionaries do not depend on vocabSize (so SAE fixtures match any tokenizer).
  assert.deepEqual(Array.from(plantedUniverse({ seed: 3, vocabSize: 7, dA: 6, dB: 9, numShared: 5, noise: 0 }).dictB.data), Array.from(u.dictB.data));
  for (const [i, j] of u.pairs) {
    for (let c = 0; c < 9; c++) {
      let s = 0;
      for (let k = 0; k < 6; k++) s += u.dictA.data[i * 6 + k]! * u.map.data[k * 9 + c]!;
      assert.ok(Math.abs(u.dictB.data[j * 9 + c]! - s) < 1e-5);
    }
  }
  for (let t = 0; t < 40; t++) {
    const active = Array.from(u.codesA.data.subarray(t * 5, t * 5 + 5)).filter((v) => v > 0);
    assert.equal(active.length, 3);
    assert.ok(active.every((v) => v >= 0.5 && v <= 1.5));
    for (let c = 0; c < 9; c++) {
      let s = 0;
      for (let f = 0; f < 5; f++) s += u.codesB.data[t * 5 + f]! * u.dictB.data[f * 9 + c]!;
      assert.ok(Math.abs(u.embeddingsB.data[t * 9 + c]! - s) < 1e-5);
    }
  }
});

test('SAE encoding + correlation pairing recovers every planted pair (sparsify A × SAELens B, post and pre)', async () => {
  const { a, b } = residualsFor(600, 99);
  for (const [layerA, layerB] of [[0, 0], [1, 2]] as const) {
    const saeA = await loadSae(saeFolder(fx.modelA.roots.f32.native, 'sparsify', layerA));
    const saeB = await loadSae(saeFolder(fx.modelB.roots.f32.native, 'saelens', layerB));
    for (const mode of ['post', 'pre'] as const) {
      const pairing = await correlateFeatures(saeActivationSource(saeA, residualMatrix(a), mode), saeActivationSource(saeB, residualMatrix(b), mode), {
        tokenChunk: 128,
        plan: { blockA: 20, blockB: 17 },
      });
      for (const [fa, fb] of fx.pairs) {
        assert.equal(pairing.aForEachB[fb], fa, `L${layerA}/L${layerB} ${mode}: B feature ${fb} should pair with A feature ${fa}`);
        assert.ok(pairing.corrForEachB[fb]! > 0.95, `planted pair correlation ${pairing.corrForEachB[fb]}`);
      }
    }
  }
});

test('pairing SAE sources: the fused B-block accumulation gives the same correlations as read + shift + accumulate', async () => {
  const { a, b } = residualsFor(300, 5);
  const cases = [
    ['sparsify', 'saelens', 'post'],
    ['sparsify', 'gemmascope', 'post'],
    ['sparsify', 'saelens', 'pre'],
  ] as const;
  for (const [layoutA, layoutB, mode] of cases) {
    const saeA = await loadSae(saeFolder(fx.modelA.roots.f32.native, layoutA, 0));
    const saeB = await loadSae(layoutB === 'gemmascope' ? saeFolder(fx.modelB.roots.f32.gemmaScope, 'gemmascope', 1) : saeFolder(fx.modelB.roots.f32.native, layoutB, 1));
    const srcB = saeActivationSource(saeB, residualMatrix(b), mode);
    assert.ok(srcB.accumulateShifted, 'an SAE source fuses the accumulation');
    const readOnly = { numTokens: srcB.numTokens, numFeatures: srcB.numFeatures, read: srcB.read.bind(srcB) };
    // Several rows of A blocks, so every block after the first row goes through the fused path.
    const opts = { keepMatrix: true, topK: 3, plan: { blockA: 7, blockB: 9, tokenChunk: 64 } };
    const fused = await correlateFeatures(saeActivationSource(saeA, residualMatrix(a), mode), srcB, opts);
    const plain = await correlateFeatures(saeActivationSource(saeA, residualMatrix(a), mode), readOnly, opts);
    const label = `${layoutA} × ${layoutB} ${mode}`;
    assert.ok(Math.ceil(saeA.numFeatures / 7) > 2, `${label}: several rows`);
    let worst = 0;
    for (let i = 0; i < fused.matrix!.data.length; i++) worst = Math.max(worst, Math.abs(fused.matrix!.data[i]! - plain.matrix!.data[i]!));
    assert.ok(worst <= 1e-6, `${label}: correlations differ by ${worst}`);
    assert.deepEqual(Array.from(fused.aForEachB), Array.from(plain.aForEachB), label);
    assert.deepEqual(Array.from(fused.bForEachA), Array.from(plain.bForEachA), label);
    assert.deepEqual(Array.from(fused.topB!.positions), Array.from(plain.topB!.positions), label);
  }
});

test('a feature subset of an SAE source encodes only its features and equals the same columns of the whole source', async () => {
  const { a } = residualsFor(200, 11);
  const cases = [
    [saeFolder(fx.modelA.roots.f32.native, 'sparsify', 0), 'post'],
    [saeFolder(fx.modelA.roots.f32.native, 'sparsify', 0), 'pre'],
    [saeFolder(fx.modelA.roots.f32.gemmaScope, 'gemmascope', 1), 'post'],
  ] as const;
  for (const [folder, mode] of cases) {
    const sae = await loadSae(folder);
    const whole = saeActivationSource(sae, residualMatrix(a), mode);
    const pick = [sae.numFeatures - 1, 0, 3, Math.floor(sae.numFeatures / 2), 3];
    const sub = featureSubsetSource(whole, pick);
    assert.equal(sub.numFeatures, pick.length);
    assert.ok(sub.subset, 'the subset is the SAE source\'s own (it encodes the picked features only)');
    const full = await whole.read(0, 200, 0, sae.numFeatures);
    const part = await sub.read(10, 200, 1, 5);
    // And a subset of the subset, renumbered again.
    const nested = await featureSubsetSource(sub, [4, 0]).read(0, 200, 0, 2);
    let worst = 0;
    for (let t = 10; t < 200; t++) {
      for (let j = 1; j < 5; j++) worst = Math.max(worst, Math.abs(part.data[(t - 10) * 4 + (j - 1)]! - full.data[t * sae.numFeatures + pick[j]!]!));
    }
    for (let t = 0; t < 200; t++) {
      worst = Math.max(worst, Math.abs(nested.data[t * 2]! - full.data[t * sae.numFeatures + pick[4]!]!), Math.abs(nested.data[t * 2 + 1]! - full.data[t * sae.numFeatures + pick[0]!]!));
    }
    assert.ok(worst <= 1e-5, `${folder} ${mode}: subset activations differ by ${worst}`);
    assert.ok(full.data.some((v) => v > 0), 'some features fire');
  }
});

test('the f16 and bf16 Gemma Scope variants recover the planted pairs too', async () => {
  const { a, b } = residualsFor(400, 7);
  const saeA = await loadSae(saeFolder(fx.modelA.roots.f16.gemmaScope, 'gemmascope', 1));
  const saeB = await loadSae(saeFolder(fx.modelB.roots.bf16.gemmaScope, 'gemmascope', 0));
  const pairing = await correlateFeatures(saeActivationSource(saeA, residualMatrix(a), 'post'), saeActivationSource(saeB, residualMatrix(b), 'post'));
  for (const [fa, fb] of fx.pairs) assert.equal(pairing.aForEachB[fb], fa);
});

function rowsOf(m: Mat, order: ArrayLike<number>): Mat {
  return gatherRows(m, order);
}

test('SVCCA of decoder rows: planted pairing ≈ 1, a shuffled pairing is at chance level', async () => {
  // Many more features than dimensions, as in real SAEs (otherwise CCA is trivially perfect).
  const u = plantedUniverse({ seed: 5, vocabSize: 1, dA: 12, dB: 18, numShared: 300 });
  const aIdx = u.pairs.map(([a]) => a);
  const bIdx = u.pairs.map(([, b]) => b);
  const x = rowsOf(u.dictA, aIdx);
  const y = rowsOf(u.dictB, bIdx);
  const r = await permutationNull(MEASURES.svcca, x, y, { permutations: 30, seed: 6 });
  assert.ok(r.observed > 0.99, `planted SVCCA ${r.observed}`);
  assert.ok(r.nullMean < 0.3, `null mean ${r.nullMean}`);
  assert.equal(r.p, 1 / 31);
  const shuffled = (await MEASURES.svcca.score(x, rowsOf(y, permutationOf(300, seededRandom(77))))).score;
  assert.ok(Math.abs(shuffled - r.nullMean) < 4 * r.nullSd, `shuffled ${shuffled} vs null ${r.nullMean} ± ${r.nullSd}`);
  assert.ok(r.observed > r.nullMean + 10 * r.nullSd);
});
