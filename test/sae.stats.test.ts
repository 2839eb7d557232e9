import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { computeFeatureStats, FeatureStatsAccumulator, type FeatureStats } from '../pipelines/sae/featureStats.ts';
import { topkThresholds } from '../pipelines/sae/encode.ts';
import { SaeFitAccumulator } from '../pipelines/sae/fit.ts';
import { readFeatureStatsTable, writeFeatureStatsTable } from '../pipelines/sae/statsTable.ts';
import type { Sae, SaeActivation } from '../pipelines/sae/types.ts';
import { referenceEncode } from './fixtures/saes.ts';
import { gaussian, seededRandom } from '../pipelines/random.ts';

const d = 8;
const F = 30;
const T = 53;

function makeSae(activation: SaeActivation): Sae {
  const g = gaussian(seededRandom(21));
  const bEnc = Float32Array.from({ length: F }, () => g() * 0.3);
  bEnc[4] = -100; // a feature that never fires: all-zero column, ties everywhere
  return {
    dIn: d,
    numFeatures: F,
    wEnc: Float32Array.from({ length: F * d }, () => g() / Math.sqrt(d)),
    bEnc,
    wDec: Float32Array.from({ length: F * d }, () => g()),
    bDec: Float32Array.from({ length: d }, () => g() * 0.1),
    subtractDecoderBias: true,
    activation,
    source: { layout: 'sparsify', file: 'stats-test', sha256: 'x', dtype: 'F32' },
  };
}

function tokens(): Mat {
  const g = gaussian(seededRandom(22));
  const x = mat(T, d, Float32Array.from({ length: T * d }, () => g()));
  // Exact duplicates in different chunks: equal activations, ties broken by lower position.
  for (const dup of [20, 35, 50]) x.data.copyWithin(dup * d, 3 * d, 4 * d);
  return x;
}

function directStats(acts: Mat, k: number): FeatureStats {
  const mean = new Float64Array(F);
  const std = new Float64Array(F);
  const frequency = new Float64Array(F);
  const max = new Float64Array(F);
  const topPositions = new Int32Array(F * k);
  const topValues = new Float32Array(F * k);
  for (let f = 0; f < F; f++) {
    const col = Array.from({ length: T }, (_, t) => acts.data[t * F + f]!);
    const m = col.reduce((a, b) => a + b, 0) / T;
    mean[f] = m;
    std[f] = Math.sqrt(col.reduce((a, b) => a + (b - m) ** 2, 0) / T);
    frequency[f] = col.filter((v) => v > 0).length / T;
    max[f] = Math.max(...col);
    const order = col.map((_, t) => t).sort((a, b) => col[b]! - col[a]! || a - b);
    for (let i = 0; i < k; i++) {
      topPositions[f * k + i] = order[i]!;
      topValues[f * k + i] = col[order[i]!]!;
    }
  }
  return { numFeatures: F, numTokens: T, topK: k, mean, std, frequency, max, topPositions, topValues };
}

function chunked(x: Mat, sizes: number[]): Mat[] {
  const out: Mat[] = [];
  let start = 0;
  for (const s of sizes) {
    const end = Math.min(x.rows, start + s);
    out.push(mat(end - start, d, x.data.slice(start * d, end * d)));
    start = end;
  }
  assert.equal(start, x.rows);
  return out;
}

function assertStatsEqual(got: FeatureStats, want: FeatureStats, what: string): void {
  assert.equal(got.numTokens, want.numTokens);
  for (let f = 0; f < F; f++) {
    assert.ok(Math.abs(got.mean[f]! - want.mean[f]!) < 1e-5, `${what} mean ${f}`);
    assert.ok(Math.abs(got.std[f]! - want.std[f]!) < 1e-5, `${what} std ${f}: ${got.std[f]} vs ${want.std[f]}`);
    assert.equal(got.frequency[f], want.frequency[f], `${what} frequency ${f}`);
    assert.ok(Math.abs(got.max[f]! - want.max[f]!) < 1e-5, `${what} max ${f}`);
  }
  assert.deepEqual(Array.from(got.topPositions), Array.from(want.topPositions), `${what} top positions`);
  for (let i = 0; i < want.topValues.length; i++) assert.ok(Math.abs(got.topValues[i]! - want.topValues[i]!) < 1e-5, `${what} top value ${i}`);
}

test('streamed per-feature stats equal a direct computation (chunks × blocks × kinds)', async () => {
  const x = tokens();
  const acts: SaeActivation[] = [{ kind: 'relu' }, { kind: 'topk', k: 4 }, { kind: 'jumprelu', threshold: new Float32Array(F).fill(0.2) }];
  for (const act of acts) {
    const sae = makeSae(act);
    for (const mode of ['pre', 'post'] as const) {
      const want = directStats(referenceEncode(sae, x, mode), 5);
      for (const [sizes, block] of [
        [[53], undefined],
        [[10, 10, 10, 23], 7],
        [[2, 51], 30],
        [[20, 16, 17], 1],
      ] as Array<[number[], number | undefined]>) {
        const got = await computeFeatureStats(sae, chunked(x, sizes), { mode, blockFeatures: block });
        assertStatsEqual(got, want, `${act.kind}/${mode}/${sizes.join('+')}/${block}`);
      }
    }
  }
  // The dead feature: zero everywhere, so its "top" positions are the first five tokens.
  const dead = await computeFeatureStats(makeSae({ kind: 'relu' }), chunked(x, [4, 49]), { mode: 'post' });
  assert.deepEqual(Array.from(dead.topPositions.subarray(4 * 5, 5 * 5)), [0, 1, 2, 3, 4]);
  assert.equal(dead.frequency[4], 0);
});

test('a TopK SAE\'s statistics pass returns the per-token thresholds topkThresholds gives, and the fit given them is unchanged', async () => {
  const x = tokens();
  const sae = makeSae({ kind: 'topk', k: 4 });
  for (const mode of ['pre', 'post'] as const) {
    for (const block of [undefined, 7, 1]) {
      const acc = new FeatureStatsAccumulator(sae, { mode, blockFeatures: block });
      const given = new SaeFitAccumulator(sae, { blockFeatures: block });
      const alone = new SaeFitAccumulator(sae, { blockFeatures: block });
      for (const chunk of chunked(x, [10, 20, 23])) {
        const thr = await acc.add(chunk);
        assert.deepEqual(thr, await topkThresholds(sae, chunk, block), `${mode}/${block}: thresholds`);
        await given.add(chunk, thr);
        await alone.add(chunk);
      }
      assert.deepEqual(given.finish(), alone.finish(), `${mode}/${block}: fit`);
    }
  }
  // Other SAEs have no thresholds to share.
  assert.equal(await new FeatureStatsAccumulator(makeSae({ kind: 'relu' }), { mode: 'pre' }).add(x), undefined);
});

test('top-k larger than a chunk, and ties across chunks resolve to the lower position', async () => {
  const x = tokens();
  const sae = makeSae({ kind: 'relu' });
  const want = directStats(referenceEncode(sae, x, 'pre'), 8);
  const got = await computeFeatureStats(sae, chunked(x, [3, 3, 3, 44]), { mode: 'pre', topK: 8, blockFeatures: 11 });
  assertStatsEqual(got, want, 'k=8');
  // Tokens 3, 20, 35, 50 are identical: wherever one is in a feature's top list, the earlier
  // copies precede the later ones.
  for (let f = 0; f < F; f++) {
    const pos = Array.from(got.topPositions.subarray(f * 8, f * 8 + 8)).filter((p) => [3, 20, 35, 50].includes(p));
    assert.deepEqual(pos, [...pos].sort((a, b) => a - b));
  }
});

test('feature stats round-trip through Parquet', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ufg-sae-stats-'));
  try {
    const stats = await computeFeatureStats(makeSae({ kind: 'topk', k: 3 }), chunked(tokens(), [30, 23]), { mode: 'post', topK: 5 });
    const path = join(dir, 'features.parquet');
    await writeFeatureStatsTable(path, stats);
    const back = await readFeatureStatsTable(path);
    assert.equal(back.numTokens, T);
    assert.equal(back.topK, 5);
    assert.deepEqual(Array.from(back.mean), Array.from(stats.mean));
    assert.deepEqual(Array.from(back.std), Array.from(stats.std));
    assert.deepEqual(Array.from(back.frequency), Array.from(stats.frequency));
    assert.deepEqual(Array.from(back.max), Array.from(stats.max));
    assert.deepEqual(Array.from(back.topPositions), Array.from(stats.topPositions));
    assert.deepEqual(Array.from(back.topValues), Array.from(stats.topValues));
    assert.deepEqual(await readdir(dir), ['features.parquet'], 'no temp files left behind');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a snapshot taken between chunks resumes to the same result', async () => {
  const sae = makeSae({ kind: 'topk', k: 4 });
  const chunks = chunked(tokens(), [17, 17, 19]);
  const whole = await computeFeatureStats(sae, chunks, { mode: 'post' });
  const first = new FeatureStatsAccumulator(sae, { mode: 'post' });
  await first.add(chunks[0]!);
  await first.add(chunks[1]!);
  const state = structuredClone(first.snapshot());
  const resumed = FeatureStatsAccumulator.restore(sae, { mode: 'post' }, state);
  assert.equal(resumed.numTokens, 34);
  await resumed.add(chunks[2]!);
  assertStatsEqual(resumed.finish(), whole, 'resumed');
});
