import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { computeSaeFit, fitWarning, SaeFitAccumulator } from '../pipelines/sae/fit.ts';
import type { Sae, SaeActivation } from '../pipelines/sae/types.ts';
import { referenceEncode } from './fixtures/saes.ts';
import { randomSae, randomX } from './sae.data.ts';

/** FVU, L0 and dead fraction straight from the definitions, in f64 JS (tiny sizes). */
function directFit(sae: Sae, x: Mat) {
  const codes = referenceEncode(sae, x, 'post');
  const { dIn: d, numFeatures: F } = sae;
  const mean = new Float64Array(d);
  for (let t = 0; t < x.rows; t++) for (let c = 0; c < d; c++) mean[c]! += x.data[t * d + c]! / x.rows;
  let sse = 0, ss = 0, fired = 0;
  const fires = new Uint8Array(F);
  for (let t = 0; t < x.rows; t++) {
    for (let c = 0; c < d; c++) {
      let xhat = sae.bDec[c]!;
      for (let f = 0; f < F; f++) xhat += codes.data[t * F + f]! * sae.wDec[f * d + c]!;
      sse += (x.data[t * d + c]! - xhat) ** 2;
      ss += (x.data[t * d + c]! - mean[c]!) ** 2;
    }
    for (let f = 0; f < F; f++) if (codes.data[t * F + f]! > 0) (fired++, (fires[f] = 1));
  }
  return { fvu: sse / ss, l0: fired / x.rows, deadFraction: fires.reduce((n, v) => n + (v ? 0 : 1), 0) / F };
}

function chunks(x: Mat, size: number): Mat[] {
  const out: Mat[] = [];
  for (let t0 = 0; t0 < x.rows; t0 += size) {
    const t1 = Math.min(x.rows, t0 + size);
    out.push({ data: x.data.subarray(t0 * x.cols, t1 * x.cols), rows: t1 - t0, cols: x.cols });
  }
  return out;
}

const KINDS: SaeActivation[] = [{ kind: 'topk', k: 4 }, { kind: 'relu' }, { kind: 'jumprelu', threshold: new Float32Array(40).fill(0.3) }];

test('FVU, L0 and dead fraction equal the definitions for TopK, ReLU and JumpReLU SAEs, across chunks and feature blocks', async () => {
  for (const [i, activation] of KINDS.entries()) {
    const sae = randomSae(11 + i, 12, 40, activation);
    // A few dead features: a large negative encoder bias keeps them off on every token.
    for (const f of [3, 17]) sae.bEnc[f] = -1e3;
    const x = randomX(5 + i, 90, 12);
    const want = directFit(sae, x);
    const got = await computeSaeFit(sae, chunks(x, 32), { blockFeatures: 7 });
    assert.equal(got.numTokens, 90);
    assert.ok(Math.abs(got.fvu - want.fvu) < 1e-4 * Math.max(1, want.fvu), `${activation.kind}: FVU ${got.fvu} vs ${want.fvu}`);
    assert.ok(Math.abs(got.l0 - want.l0) < 1e-9, `${activation.kind}: L0 ${got.l0} vs ${want.l0}`);
    assert.equal(got.deadFraction, want.deadFraction);
    assert.ok(got.deadFraction >= 2 / 40, 'the two silenced features are dead');
  }
});

test('an SAE that reconstructs its input has FVU ≈ 0; a snapshot resumes to the same fit', async () => {
  // d = F, identity encoder and decoder, ReLU, inputs ≥ 0: x̂ = x exactly.
  const d = 6;
  const eye = Float32Array.from({ length: d * d }, (_, i) => (i % (d + 1) === 0 ? 1 : 0));
  const sae: Sae = { ...randomSae(1, d, d, { kind: 'relu' }), wEnc: eye, wDec: eye, bEnc: new Float32Array(d), bDec: new Float32Array(d) };
  const x = randomX(2, 50, d);
  x.data.forEach((v, i) => (x.data[i] = Math.abs(v) + 0.1));
  const fit = await computeSaeFit(sae, [x]);
  assert.ok(fit.fvu < 1e-9, `FVU ${fit.fvu}`);
  assert.equal(fit.l0, d);
  assert.equal(fitWarning(fit, 'layer 1'), undefined);

  const parts = chunks(x, 20);
  const first = new SaeFitAccumulator(sae);
  await first.add(parts[0]!);
  const resumed = new SaeFitAccumulator(sae, {}, first.snapshot());
  for (const p of parts.slice(1)) await resumed.add(p);
  assert.deepEqual(resumed.finish(), fit);
});

test('a poor fit warns, naming what it is about', async () => {
  const sae = randomSae(3, 8, 16, { kind: 'topk', k: 2 });
  const fit = await computeSaeFit(sae, [randomX(4, 40, 8)]);
  assert.ok(fit.fvu > 0.5, `a random SAE explains little: FVU ${fit.fvu}`);
  assert.match(fitWarning(fit, 'model a layer 2')!, /^model a layer 2: FVU \d\.\d{3} > 0\.5 .* trained on another tensor/);
});
