// ufg's SAE loading and encoding on SAEs written by the real libraries (test/fixtures/real/saes/*,
// made by make_goldens.py): EleutherAI sparsify's Trainer checkpoints, SAELens' save methods
// (hook_name under metadata, bf16 / f16 weights), and Gemma Scope params.npz. On the golden hidden
// states of the tensor each SAE was trained on (and on the wrong neighbour), ufg's `pre` and
// `post` codes equal the library's, and decoding ufg's codes gives the library's reconstruction.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { gemm, mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { encodeFeatureBlock, encodeSae, topkThresholds } from '../pipelines/sae/encode.ts';
import { loadSae } from '../pipelines/sae/loadSae.ts';
import type { Sae } from '../pipelines/sae/types.ts';
import { hfLayer, manifest, REAL_DIR, relativeError, saeGolden, sparsifyCodes, type RealSae } from './realGoldens.ts';

// Both sides compute in float32 (the library with the weights widened to f32); the sums differ
// only in order.
const TOL = 1e-5;
const STORED_DTYPE: Record<RealSae['dtype'], string[]> = { float32: ['F32', '<f4'], bfloat16: ['BF16'], float16: ['F16'] };

async function libraryCodes(s: RealSae, which: 'right' | 'wrong'): Promise<Mat> {
  return s.layout === 'sparsify' ? sparsifyCodes(s, which) : saeGolden(s, which, 'codes');
}

/** x̂ = codes · W_dec + b_dec with ufg's loaded decoder (ONNX Runtime GEMM). */
async function decode(sae: Sae, codes: Mat): Promise<Mat> {
  const y = await gemm(codes, mat(sae.numFeatures, sae.dIn, sae.wDec));
  for (let t = 0; t < y.rows; t++) for (let j = 0; j < y.cols; j++) y.data[t * y.cols + j]! += sae.bDec[j]!;
  return y;
}

function support(m: Mat): string[] {
  const rows: string[] = [];
  for (let t = 0; t < m.rows; t++) {
    const on: number[] = [];
    for (let f = 0; f < m.cols; f++) if (m.data[t * m.cols + f] !== 0) on.push(f);
    rows.push(on.join(','));
  }
  return rows;
}

function relativeScale(m: Mat): number {
  return m.data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
}

function assertClose(actual: Mat, expected: Mat, tol: number, what: string): void {
  const err = relativeError(actual, expected);
  assert.ok(err <= tol, `${what}: ufg differs from the library by ${err.toExponential(2)} of the scale (tolerance ${tol})`);
}

for (const s of manifest.saes) {
  const folder = join(REAL_DIR, s.path);

  test(`real SAE ${s.id}: loads as the library wrote it (${s.layout}, ${s.architecture}, ${s.dtype})`, async () => {
    const sae = await loadSae(folder);
    assert.equal(sae.source.layout, s.layout);
    assert.equal(sae.source.file, join(folder, s.weights_file));
    assert.ok(STORED_DTYPE[s.dtype].includes(sae.source.dtype), `stored dtype ${sae.source.dtype}, manifest says ${s.dtype}`);
    assert.equal(sae.dIn, s.d_in);
    assert.equal(sae.numFeatures, s.num_latents);
    assert.equal(sae.subtractDecoderBias, s.layout === 'gemmascope' ? false : (s.apply_b_dec_to_input ?? true));
    const kind = s.architecture === 'standard' ? 'relu' : s.architecture;
    assert.equal(sae.activation.kind, kind);
    if (sae.activation.kind === 'topk') assert.equal(sae.activation.k, s.k);
  });

  for (const which of ['right', 'wrong'] as const) {
    const layer = s.fit[which].ufg_layer;
    test(`real SAE ${s.id}: ufg's codes and reconstruction equal the library's on ufg layer ${layer} (${which} tensor)`, async () => {
      const sae = await loadSae(folder);
      const x = await hfLayer(s.model, layer);
      const post = await encodeSae(sae, x, 'post');
      const codes = await libraryCodes(s, which);
      assert.deepEqual(support(post), support(codes), 'the same latents fire at every token');
      assertClose(post, codes, TOL, 'post codes');
      assertClose(await decode(sae, post), await saeGolden(s, which, 'recon'), TOL, 'reconstruction');
      if (which === 'right') assertClose(await encodeSae(sae, x, 'pre'), await saeGolden(s, 'right', 'pre'), TOL, 'pre-activations');
    });
  }

  test(`real SAE ${s.id}: block-wise encoding (two feature blocks) equals the library's codes`, async () => {
    const sae = await loadSae(folder);
    const x = await hfLayer(s.model, s.trained_on.ufg_layer);
    const half = sae.numFeatures / 2;
    const thr = sae.activation.kind === 'topk' ? await topkThresholds(sae, x, half) : undefined;
    const blocks = [await encodeFeatureBlock(sae, x, 0, half, 'post', thr), await encodeFeatureBlock(sae, x, half, sae.numFeatures, 'post', thr)];
    const joined = mat(x.rows, sae.numFeatures);
    for (let t = 0; t < x.rows; t++) {
      joined.data.set(blocks[0]!.data.subarray(t * half, (t + 1) * half), t * sae.numFeatures);
      joined.data.set(blocks[1]!.data.subarray(t * half, (t + 1) * half), t * sae.numFeatures + half);
    }
    const codes = await libraryCodes(s, 'right');
    assert.deepEqual(support(joined), support(codes));
    assertClose(joined, codes, TOL, 'block-wise post codes');
  });

  if (s.goldens.right_native_dtype) {
    // The library computing in the stored half precision (what a user gets loading without a
    // dtype) rounds every product: ufg's f32 result is within that rounding of it. TopK may pick
    // a different latent where two pre-activations tie within the rounding; nowhere else.
    test(`real SAE ${s.id}: ufg's f32 codes are within ${s.dtype} rounding of the library computing in ${s.dtype}`, async () => {
      const sae = await loadSae(folder);
      const x = await hfLayer(s.model, s.trained_on.ufg_layer);
      const tol = s.dtype === 'bfloat16' ? 2e-2 : 2e-3;
      const pre = await encodeSae(sae, x, 'pre');
      const post = await encodeSae(sae, x, 'post');
      const nativePre = await saeGolden(s, 'right_native_dtype', 'pre');
      const native = await saeGolden(s, 'right_native_dtype', 'codes');
      assertClose(pre, nativePre, tol, `pre vs library in ${s.dtype}`);
      const scale = relativeScale(nativePre);
      const ours = support(post);
      const theirs = support(native);
      const F = sae.numFeatures;
      let flipped = 0;
      for (let t = 0; t < x.rows; t++) {
        const row = (m: Mat) => mat(1, F, m.data.slice(t * F, (t + 1) * F));
        if (ours[t] === theirs[t]) {
          assertClose(row(post), row(native), tol, `post vs library in ${s.dtype} at token ${t}`);
          continue;
        }
        assert.equal(sae.activation.kind, 'topk', `token ${t}: a different support is only a TopK tie`);
        flipped++;
        const kth = Math.min(...ours[t]!.split(',').map((f) => pre.data[t * F + Number(f)]!));
        const a = new Set(ours[t]!.split(','));
        const b = new Set(theirs[t]!.split(','));
        for (const f of [...a].filter((f) => !b.has(f)).concat([...b].filter((f) => !a.has(f)))) {
          const gap = Math.abs(pre.data[t * F + Number(f)]! - kth);
          assert.ok(gap <= tol * scale, `token ${t}: latent ${f} swapped though ${gap} from the k-th pre-activation ${kth}`);
        }
      }
      assert.ok(flipped <= x.rows / 10, `${flipped} of ${x.rows} tokens pick other latents`);
    });
  }
}
