import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isUserInputError } from '../pipelines/errors.ts';
import { mat } from '../pipelines/kernels/gemm.ts';
import { encodeSae } from '../pipelines/sae/encode.ts';
import { assertSaeMatchesWidth, loadSae } from '../pipelines/sae/loadSae.ts';
import { encodeSafetensors } from '../pipelines/sae/safetensors.ts';
import { FIXTURE_DTYPES, generateSaeFixtures, referenceEncode, saeFolder, type SaeFixtureSet, type SaeWeights } from './fixtures/saes.ts';

let dir: string;
let fx: SaeFixtureSet;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ufg-sae-load-'));
  fx = await generateSaeFixtures(join(dir, 'fx'), { modelA: { d: 64, layers: 2 }, modelB: { d: 96, layers: 3 } });
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const TOL = { f32: 0, f16: 1e-3, bf16: 8e-3 } as const;

function assertClose(actual: Float32Array, expected: Float32Array, relTol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    const tol = relTol * Math.max(Math.abs(expected[i]!), 2 ** -14) + (relTol > 0 ? 1e-7 : 0);
    if (Math.abs(actual[i]! - expected[i]!) > tol) assert.fail(`${what}[${i}]: ${actual[i]} vs ${expected[i]} (tol ${tol})`);
  }
}

function assertWeights(sae: Awaited<ReturnType<typeof loadSae>>, w: SaeWeights, relTol: number, what: string): void {
  assert.equal(sae.dIn, w.dIn);
  assert.equal(sae.numFeatures, w.numFeatures);
  assertClose(sae.wEnc, w.wEnc, relTol, `${what} wEnc`);
  assertClose(sae.bEnc, w.bEnc, relTol, `${what} bEnc`);
  assertClose(sae.wDec, w.wDec, relTol, `${what} wDec`);
  assertClose(sae.bDec, w.bDec, relTol, `${what} bDec`);
}

test('every layout × dtype loads the written weights and activation', async () => {
  for (const dtype of FIXTURE_DTYPES) {
    for (let layer = 0; layer < 2; layer++) {
      const a = await loadSae(saeFolder(fx.modelA.roots[dtype].native, 'sparsify', layer));
      assert.equal(a.source.layout, 'sparsify');
      assert.deepEqual(a.activation, { kind: 'topk', k: fx.kA });
      assert.equal(a.subtractDecoderBias, true);
      assertWeights(a, fx.modelA.sparsifyOrSaelens[layer]!, TOL[dtype], `A sparsify ${dtype} L${layer}`);
      const g = await loadSae(saeFolder(fx.modelA.roots[dtype].gemmaScope, 'gemmascope', layer));
      assert.equal(g.source.layout, 'gemmascope');
      assert.equal(g.subtractDecoderBias, false);
      assert.equal(g.activation.kind, 'jumprelu');
      assertWeights(g, fx.modelA.gemmaScope[layer]!, TOL[dtype], `A gemmascope ${dtype} L${layer}`);
    }
    for (let layer = 0; layer < 3; layer++) {
      const b = await loadSae(saeFolder(fx.modelB.roots[dtype].native, 'saelens', layer));
      assert.equal(b.source.layout, 'saelens');
      assert.deepEqual(b.activation, { kind: 'relu' });
      assertWeights(b, fx.modelB.sparsifyOrSaelens[layer]!, TOL[dtype], `B saelens ${dtype} L${layer}`);
    }
  }
});

test('each layout × dtype encodes (pre and post) like a direct computation', async () => {
  const pick = (u: typeof fx.universe.embeddingsA, rows: number) => mat(rows, u.cols, u.data.slice(0, rows * u.cols));
  for (const dtype of FIXTURE_DTYPES) {
    const cases = [
      { root: saeFolder(fx.modelA.roots[dtype].native, 'sparsify', 1), x: pick(fx.universe.embeddingsA, 24) },
      { root: saeFolder(fx.modelA.roots[dtype].gemmaScope, 'gemmascope', 0), x: pick(fx.universe.embeddingsA, 24) },
      { root: saeFolder(fx.modelB.roots[dtype].native, 'saelens', 2), x: pick(fx.universe.embeddingsB, 24) },
      { root: saeFolder(fx.modelB.roots[dtype].gemmaScope, 'gemmascope', 1), x: pick(fx.universe.embeddingsB, 24) },
    ];
    for (const c of cases) {
      const sae = await loadSae(c.root);
      for (const mode of ['pre', 'post'] as const) {
        const got = await encodeSae(sae, c.x, mode, { batchTokens: 7 });
        const want = referenceEncode(sae, c.x, mode);
        for (let i = 0; i < want.data.length; i++) {
          assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-4, `${sae.source.layout} ${dtype} ${mode} [${i}]: ${got.data[i]} vs ${want.data[i]}`);
        }
        if (mode === 'post' && sae.activation.kind === 'topk') {
          for (let t = 0; t < c.x.rows; t++) {
            const nz = got.data.subarray(t * sae.numFeatures, (t + 1) * sae.numFeatures).filter((v) => v !== 0).length;
            assert.ok(nz <= sae.activation.k, `token ${t} keeps ${nz} > k features`);
          }
        }
      }
    }
  }
});

test('layout is detected from the weights file or the folder holding it; the hookpoint from cfg.json or the folder name', async () => {
  const root = fx.modelB.roots.f32.native;
  const folder = join(root, 'blocks.1.hook_resid_post');
  const viaFile = await loadSae(join(folder, 'sae_weights.safetensors'));
  const viaFolder = await loadSae(folder);
  assert.equal(viaFile.source.sha256, viaFolder.source.sha256);
  assert.equal(viaFolder.source.file, viaFile.source.file);
  assert.deepEqual(viaFile.source.hookpoint, { name: 'blocks.1.hook_resid_post', from: 'cfg.json hook_name', block: 1, site: 'resid_post', trainedOn: 2 });
  const gemma = await loadSae(saeFolder(fx.modelA.roots.f32.gemmaScope, 'gemmascope', 1));
  assert.deepEqual(gemma.source.hookpoint, { name: 'layer_1', from: 'folder name', block: 1, site: 'resid_post', trainedOn: 2 });
  // A safetensors file with a non-standard name is recognised by its tensor names.
  const renamed = join(dir, 'renamed');
  await mkdir(renamed, { recursive: true });
  await copyFile(join(fx.modelA.roots.f32.native, 'layers.0', 'sae.safetensors'), join(renamed, 'my_sae.safetensors'));
  await copyFile(join(fx.modelA.roots.f32.native, 'layers.0', 'cfg.json'), join(renamed, 'cfg.json'));
  const odd = await loadSae(join(renamed, 'my_sae.safetensors'));
  assert.equal(odd.source.layout, 'sparsify');
  assert.equal(odd.source.hookpoint, undefined, 'nothing on disk says which tensor it was trained on');
});

async function expectUserError(p: Promise<unknown>, file: string, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isUserInputError(e), `expected UserInputError, got ${String(e)}`);
    assert.ok((e as Error).message.includes(file), `names ${file}: ${(e as Error).message}`);
    assert.match((e as Error).message, pattern);
    assert.ok(!(e as Error).message.includes('\n'), 'one line');
    return true;
  });
}

test('bad SAE inputs are UserInputErrors naming the file', async () => {
  const bad = join(dir, 'bad');
  // Missing tensor (sparsify without b_dec).
  const noBias = join(bad, 'missing', 'layers.0');
  await mkdir(noBias, { recursive: true });
  const w = fx.modelA.sparsifyOrSaelens[0]!;
  await writeFile(
    join(noBias, 'sae.safetensors'),
    encodeSafetensors({
      'encoder.weight': { dtype: 'F32', shape: [w.numFeatures, w.dIn], data: w.wEnc },
      'encoder.bias': { dtype: 'F32', shape: [w.numFeatures], data: w.bEnc },
      W_dec: { dtype: 'F32', shape: [w.numFeatures, w.dIn], data: w.wDec },
    }),
  );
  await writeFile(join(noBias, 'cfg.json'), JSON.stringify({ k: 4, d_in: 64 }));
  await expectUserError(loadSae(join(bad, 'missing')), join(noBias, 'sae.safetensors'), /missing tensor "b_dec"/);

  // Decoder of the wrong shape.
  const wrong = join(bad, 'shape');
  await mkdir(wrong, { recursive: true });
  await writeFile(
    join(wrong, 'sae.safetensors'),
    encodeSafetensors({
      'encoder.weight': { dtype: 'F32', shape: [w.numFeatures, w.dIn], data: w.wEnc },
      'encoder.bias': { dtype: 'F32', shape: [w.numFeatures], data: w.bEnc },
      W_dec: { dtype: 'F32', shape: [w.dIn, w.numFeatures], data: w.wDec },
      b_dec: { dtype: 'F32', shape: [w.dIn], data: w.bDec },
    }),
  );
  await writeFile(join(wrong, 'cfg.json'), JSON.stringify({ k: 4 }));
  await expectUserError(loadSae(wrong), join(wrong, 'sae.safetensors'), /"W_dec" has shape \[64, 48\], expected \[48, 64\]/);

  // Truncated safetensors file (header claims more than is there).
  const trunc = join(bad, 'trunc');
  await mkdir(trunc, { recursive: true });
  const full = await readFile(join(fx.modelA.roots.f32.native, 'layers.0', 'sae.safetensors'));
  await writeFile(join(trunc, 'sae.safetensors'), full.subarray(0, 100));
  await writeFile(join(trunc, 'cfg.json'), JSON.stringify({ k: 4 }));
  await expectUserError(loadSae(trunc), join(trunc, 'sae.safetensors'), /runs past the end|overrun/);

  // Corrupt npz.
  const npz = join(bad, 'corrupt', 'params.npz');
  await mkdir(join(bad, 'corrupt'), { recursive: true });
  const zip = await readFile(join(fx.modelA.roots.f32.gemmaScope, 'layer_0', 'width_tiny', 'average_l0_3', 'params.npz'));
  const broken = Uint8Array.from(zip);
  broken.fill(0x42, 30, Math.min(broken.length, 400));
  await writeFile(npz, broken.subarray(0, broken.length - 40));
  await expectUserError(loadSae(npz), npz, /npz|zip|npy/);

  // sparsify cfg without k; missing layer; missing path.
  const noK = join(bad, 'nok');
  await mkdir(noK, { recursive: true });
  await copyFile(join(fx.modelA.roots.f32.native, 'layers.0', 'sae.safetensors'), join(noK, 'sae.safetensors'));
  await writeFile(join(noK, 'cfg.json'), '{}');
  await expectUserError(loadSae(noK), join(noK, 'cfg.json'), /"k"/);
  await expectUserError(loadSae(fx.modelA.roots.f32.native), fx.modelA.roots.f32.native, /folder holds 2 SAEs \(layers\.0\/sae\.safetensors, layers\.1\/sae\.safetensors\); name one of them/);
  await expectUserError(loadSae(join(bad, 'nope')), join(bad, 'nope'), /does not exist/);
});

test('an SAE whose d_in differs from the model width is refused', async () => {
  const sae = await loadSae(saeFolder(fx.modelA.roots.f32.native, 'sparsify', 0));
  assertSaeMatchesWidth(sae, 64, '/models/a.onnx');
  assert.throws(
    () => assertSaeMatchesWidth(sae, 96, '/models/b.onnx'),
    (e: unknown) => isUserInputError(e) && /\/models\/b\.onnx/.test((e as Error).message) && /d_in=64/.test((e as Error).message) && (e as Error).message.includes(sae.source.file),
  );
});

test('SAELens configs select TopK, JumpReLU (threshold tensor) and the b_dec convention', async () => {
  const w = fx.modelB.sparsifyOrSaelens[0]!;
  const tensors = (withThreshold: boolean) =>
    encodeSafetensors({
      W_enc: { dtype: 'F32', shape: [w.dIn, w.numFeatures], data: transposeRows(w.wEnc, w.numFeatures, w.dIn) },
      b_enc: { dtype: 'F32', shape: [w.numFeatures], data: w.bEnc },
      W_dec: { dtype: 'F32', shape: [w.numFeatures, w.dIn], data: w.wDec },
      b_dec: { dtype: 'F32', shape: [w.dIn], data: w.bDec },
      ...(withThreshold ? { threshold: { dtype: 'F32' as const, shape: [w.numFeatures], data: new Float32Array(w.numFeatures).fill(0.25) } } : {}),
    });
  const write = async (name: string, cfg: object, withThreshold: boolean) => {
    const p = join(dir, 'saelens', name);
    await mkdir(p, { recursive: true });
    await writeFile(join(p, 'sae_weights.safetensors'), tensors(withThreshold));
    await writeFile(join(p, 'cfg.json'), JSON.stringify(cfg));
    return p;
  };
  const topk = await loadSae(await write('topk', { architecture: 'topk', d_in: 96, k: 3 }, false));
  assert.deepEqual(topk.activation, { kind: 'topk', k: 3 });
  const kw = await loadSae(await write('kw', { activation_fn_str: 'topk', activation_fn_kwargs: { k: 5 } }, false));
  assert.deepEqual(kw.activation, { kind: 'topk', k: 5 });
  const jump = await loadSae(await write('jump', { architecture: 'jumprelu', apply_b_dec_to_input: false }, true));
  assert.equal(jump.activation.kind, 'jumprelu');
  assert.equal(jump.subtractDecoderBias, false);
  assert.deepEqual(Array.from(jump.wEnc), Array.from(w.wEnc), 'W_enc [d, F] is transposed to F × d');
  const x = mat(5, 96, fx.universe.embeddingsB.data.slice(0, 5 * 96));
  const got = await encodeSae(jump, x, 'post');
  const want = referenceEncode(jump, x, 'post');
  for (let i = 0; i < want.data.length; i++) assert.ok(Math.abs(got.data[i]! - want.data[i]!) < 1e-4);
  await expectUserError(loadSae(await write('nothr', { architecture: 'jumprelu' }, false)), join(dir, 'saelens', 'nothr', 'sae_weights.safetensors'), /no "threshold"/);
  await expectUserError(loadSae(await write('badd', { d_in: 64 }, false)), join(dir, 'saelens', 'badd', 'cfg.json'), /d_in=64 but the weights have d_in=96/);
});

function transposeRows(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

test('SAELens input transforms ufg does not apply (layer norm, norm rescale, attention reshape) are refused, naming cfg.json', async () => {
  const src = saeFolder(fx.modelB.roots.f32.native, 'saelens', 0);
  for (const [field, value, pattern] of [
    ['normalize_activations', 'layer_norm', /normalize_activations="layer_norm" is applied by SAELens at inference/],
    ['normalize_activations', 'constant_norm_rescale', /normalize_activations="constant_norm_rescale"/],
    ['reshape_activations', 'hook_z', /reshape_activations="hook_z" \(an attention-head hook\)/],
  ] as const) {
    const folder = join(dir, `transform-${value}`);
    await mkdir(folder, { recursive: true });
    await copyFile(join(src, 'sae_weights.safetensors'), join(folder, 'sae_weights.safetensors'));
    const cfg = JSON.parse(await readFile(join(src, 'cfg.json'), 'utf8')) as Record<string, unknown>;
    await writeFile(join(folder, 'cfg.json'), JSON.stringify({ ...cfg, [field]: value }));
    await expectUserError(loadSae(folder), join(folder, 'cfg.json'), pattern);
  }
  // Folded into the weights when SAELens saves an inference SAE: loads.
  const folded = join(dir, 'transform-folded');
  await mkdir(folded, { recursive: true });
  await copyFile(join(src, 'sae_weights.safetensors'), join(folded, 'sae_weights.safetensors'));
  const cfg = JSON.parse(await readFile(join(src, 'cfg.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(join(folded, 'cfg.json'), JSON.stringify({ ...cfg, normalize_activations: 'expected_average_only_in' }));
  assert.equal((await loadSae(folded)).source.layout, 'saelens');
});
