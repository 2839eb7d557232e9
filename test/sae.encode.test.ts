import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { encodeFeatureBlock, encodeSae, topkThresholds } from '../pipelines/sae/encode.ts';
import type { Sae, SaeActivation } from '../pipelines/sae/types.ts';
import { referenceEncode } from './fixtures/saes.ts';
import { randomSae, randomX } from './sae.data.ts';

function handSae(activation: SaeActivation, subtractDecoderBias = true): Sae {
  // d = 2, F = 3: feature 0 reads x0, feature 1 reads x1, feature 2 reads x0 − x1.
  return {
    dIn: 2,
    numFeatures: 3,
    wEnc: Float32Array.of(1, 0, 0, 1, 1, -1),
    bEnc: Float32Array.of(0, 0.5, 0),
    wDec: Float32Array.of(1, 0, 0, 1, 0.7, -0.7),
    bDec: Float32Array.of(1, 0),
    subtractDecoderBias,
    activation,
    source: { layout: 'saelens', file: 'hand', sha256: 'hand', dtype: 'F32' },
  };
}

test('hand-computed activations for each kind', async () => {
  // x = (3, 1): x − b_dec = (2, 1) → z = (2, 1.5, 1).  x = (0, 2): (−1, 2) → z = (−1, 2.5, −3).
  const x = mat(2, 2, Float32Array.of(3, 1, 0, 2));
  const pre = await encodeSae(handSae({ kind: 'relu' }), x, 'pre');
  assert.deepEqual(Array.from(pre.data), [2, 1.5, 1, 0, 2.5, 0]);
  const relu = await encodeSae(handSae({ kind: 'relu' }), x, 'post');
  assert.deepEqual(Array.from(relu.data), [2, 1.5, 1, 0, 2.5, 0]);
  const top1 = await encodeSae(handSae({ kind: 'topk', k: 1 }), x, 'post');
  assert.deepEqual(Array.from(top1.data), [2, 0, 0, 0, 2.5, 0]);
  const top2 = await encodeSae(handSae({ kind: 'topk', k: 2 }), x, 'post');
  assert.deepEqual(Array.from(top2.data), [2, 1.5, 0, 0, 2.5, 0]);
  // TopK SAE in pre mode: ReLU only, nothing dropped.
  assert.deepEqual(Array.from((await encodeSae(handSae({ kind: 'topk', k: 1 }), x, 'pre')).data), [2, 1.5, 1, 0, 2.5, 0]);
  const jump = await encodeSae(handSae({ kind: 'jumprelu', threshold: Float32Array.of(2.5, 1, 0.5) }), x, 'post');
  assert.deepEqual(Array.from(jump.data), [0, 1.5, 1, 0, 2.5, 0]);
  // Gemma Scope convention: no b_dec subtraction. x = (3, 1) → z = (3, 1.5, 2).
  const noSub = await encodeSae(handSae({ kind: 'relu' }, false), x, 'pre');
  assert.deepEqual(Array.from(noSub.data.subarray(0, 3)), [3, 1.5, 2]);
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

test('random SAEs: ONNX encoding matches the direct computation', async () => {
  const x = randomX(2, 40, 16);
  for (const act of [{ kind: 'relu' }, { kind: 'topk', k: 5 }, { kind: 'jumprelu', threshold: Float32Array.from({ length: 70 }, (_, i) => (i % 7) * 0.1) }] as SaeActivation[]) {
    const sae = randomSae(11, 16, 70, act);
    for (const mode of ['pre', 'post'] as const) {
      const got = await encodeSae(sae, x, mode, { batchTokens: 9 });
      assert.ok(maxDiff(got.data, referenceEncode(sae, x, mode).data) < 1e-5, `${act.kind} ${mode}`);
    }
  }
});

test('block-wise encoding equals the matching columns of whole-SAE encoding', async () => {
  const x = randomX(3, 33, 16);
  for (const act of [{ kind: 'relu' }, { kind: 'topk', k: 6 }, { kind: 'jumprelu', threshold: Float32Array.from({ length: 50 }, (_, i) => (i % 5) * 0.15) }] as SaeActivation[]) {
    const sae = randomSae(5, 16, 50, act);
    for (const mode of ['pre', 'post'] as const) {
      const full = await encodeSae(sae, x, mode);
      const thr = act.kind === 'topk' && mode === 'post' ? await topkThresholds(sae, x, 7) : undefined;
      for (const [fs, fe] of [[0, 13], [13, 37], [37, 50], [20, 21]] as const) {
        const blk = await encodeFeatureBlock(sae, x, fs, fe, mode, thr);
        assert.equal(blk.cols, fe - fs);
        for (let t = 0; t < x.rows; t++) {
          for (let j = 0; j < fe - fs; j++) {
            const a = blk.data[t * (fe - fs) + j]!;
            const b = full.data[t * 50 + fs + j]!;
            if (Math.abs(a - b) > 1e-5) assert.fail(`${act.kind} ${mode} [${fs},${fe}) t=${t} j=${j}: ${a} vs ${b}`);
          }
        }
      }
      // Without precomputed thresholds the block encoder computes them itself.
      const self = await encodeFeatureBlock(sae, x, 10, 30, mode);
      const given = await encodeFeatureBlock(sae, x, 10, 30, mode, thr);
      assert.deepEqual(Array.from(self.data), Array.from(given.data));
    }
  }
});

test('TopK thresholds are the per-token k-th largest pre-activation, whatever the block size', async () => {
  const sae = randomSae(8, 12, 40, { kind: 'topk', k: 4 });
  const x = randomX(9, 17, 12);
  const pre = referenceEncode(sae, x, 'pre');
  const want = Array.from({ length: x.rows }, (_, t) => Array.from(pre.data.subarray(t * 40, (t + 1) * 40)).sort((a, b) => b - a)[3]!);
  for (const block of [1, 3, 40, 1000]) {
    const thr = await topkThresholds(sae, x, block);
    for (let t = 0; t < x.rows; t++) assert.ok(Math.abs(thr[t]! - want[t]!) < 1e-5, `block ${block} token ${t}`);
  }
});
