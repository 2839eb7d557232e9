// The streaming correlation's checkpoints: a correlation resumed from any saved state — mid-row
// (with the row's accumulators and running top-k) or at a row's end — gives exactly the
// uninterrupted result (feature groups paired within included), for dense sources and for SAE
// sources (whose later rows fuse the encoding into the accumulation).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matrixSource, type ActivationSource } from '../pipelines/pair/activationSource.ts';
import { correlateFeatures, type CorrelationCheckpoint, type CorrelationOptions } from '../pipelines/pair/streamingCorrelation.ts';
import { residualMatrix, saeActivationSource } from '../pipelines/sae/activationSource.ts';
import { randomSae, randomX } from './sae.data.ts';

const T = 300;
// 64 × 64 feature blocks over 64-token chunks: several rows of several chunks.
// With feature groups paired within (their state is part of each checkpoint).
const OPTS: CorrelationOptions = { topK: 5, tokenChunk: 64, memoryBudgetBytes: 250_000, within: [{ featuresA: [0, 5, 70, 140], featuresB: [3, 66, 130, 149] }] };

async function checkResumes(a: ActivationSource, b: ActivationSource, what: string): Promise<void> {
  const whole = await correlateFeatures(a, b, OPTS);
  const saved: CorrelationCheckpoint[] = [];
  // everyMs 0: a save at every chunk; `acc` is the live row, so each state is copied at once.
  const again = await correlateFeatures(a, b, { ...OPTS, everyMs: 0, save: (s) => void saved.push(structuredClone(s)) });
  assert.deepEqual(again, whole, `${what}: saving changes nothing`);
  const mid = saved.filter((s) => s.chunksDone > 0 && s.acc);
  const ends = saved.filter((s) => s.chunksDone === 0);
  assert.ok(mid.length >= 3 && ends.length >= 2, `${what}: ${mid.length} mid-row and ${ends.length} row-end states`);
  for (const state of [mid[0]!, mid[Math.floor(mid.length / 2)]!, mid.at(-1)!, ends[0]!, ends.at(-1)!]) {
    const resumed = await correlateFeatures(a, b, { ...OPTS, resume: state });
    assert.deepEqual(resumed, whole, `${what}: resumed at row ${state.rowsDone}, chunk ${state.chunksDone}`);
  }
}

test('a correlation resumed from a mid-row or row-end checkpoint equals the uninterrupted one', async () => {
  const xa = randomX(11, T, 150), xb = randomX(12, T, 170);
  await checkResumes(matrixSource(xa), matrixSource(xb), 'dense');
  const sa = saeActivationSource(randomSae(13, 12, 200, { kind: 'relu' }), residualMatrix(randomX(14, T, 12)), 'pre');
  const sb = saeActivationSource(randomSae(15, 16, 240, { kind: 'topk', k: 8 }), residualMatrix(randomX(16, T, 16)), 'post');
  await checkResumes(sa, sb, 'SAE');
});
