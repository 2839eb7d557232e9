// Streaming pairing throughput as a fraction of a plain ONNX Runtime GEMM of the same shape,
// both measured in this run; peak RSS against the input size; Hungarian time at 1000 and 3000.
// Sizes: UFG_BENCH_PAIR_FEATURES (default 8192 per side), UFG_BENCH_PAIR_TOKENS (default 8192),
// the target's size (about 30 s here); set smaller values on a slow machine.
import { gemm } from '../pipelines/kernels/gemm.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { correlateFeatures } from '../pipelines/pair/streamingCorrelation.ts';
import { maxWeightAssignment } from '../pipelines/pair/hungarian.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

/** SAE-like activations: mostly zero, positive when firing. */
function sparseActivations(rows: number, cols: number, seed: number): Mat {
  let s = seed >>> 0;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const u = s / 4294967296;
    data[i] = u < 0.1 ? u * 30 : 0;
  }
  return { data, rows, cols };
}

async function seconds(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

export async function run(): Promise<void> {
  const F = envInt('UFG_BENCH_PAIR_FEATURES', 8192);
  const T = envInt('UFG_BENCH_PAIR_TOKENS', 8192);
  const a = sparseActivations(T, F, 1), b = sparseActivations(T, F, 2);
  const inputBytes = a.data.byteLength + b.data.byteLength;
  const flops = 2 * T * F * F;

  // Warm the sessions on a small problem, then time the real one.
  await correlateFeatures(matrixSource(sparseActivations(512, 256, 3)), matrixSource(sparseActivations(512, 256, 4)));
  let plan = { blockA: 0, blockB: 0, tokenChunk: 0 };
  let pairS = await seconds(async () => {
    plan = (await correlateFeatures(matrixSource(a), matrixSource(b))).plan;
  });
  const maxRssBytes = process.resourceUsage().maxRSS * 1024;

  // Baseline: the same AᵀB as one ONNX Runtime GEMM (no streaming, no reductions). The machine
  // is shared, so the two are interleaved and the best of two runs of each is kept.
  await gemm(sparseActivations(512, 256, 5), sparseActivations(512, 256, 6), { transA: true });
  let gemmS = await seconds(() => gemm(a, b, { transA: true }));
  pairS = Math.min(pairS, await seconds(() => correlateFeatures(matrixSource(a), matrixSource(b))));
  gemmS = Math.min(gemmS, await seconds(() => gemm(a, b, { transA: true })));

  const pairG = flops / pairS / 1e9, gemmG = flops / gemmS / 1e9;
  console.log(`pairing ${F}×${F} features, ${T} tokens (blocks ${plan.blockA}×${plan.blockB}, chunk ${plan.tokenChunk}): ${pairS.toFixed(2)} s, ${pairG.toFixed(1)} GFLOP/s`);
  console.log(`ONNX Runtime GEMM of the same AᵀB: ${gemmS.toFixed(2)} s, ${gemmG.toFixed(1)} GFLOP/s`);
  console.log(`pairing / GEMM throughput: ${(pairG / gemmG).toFixed(2)} (target ≥ 0.6 at 8192 × 8192, 8192 tokens)`);
  console.log(`peak RSS during the first pairing run (before any baseline): ${(maxRssBytes / 2 ** 20).toFixed(0)} MiB = ${(maxRssBytes / inputBytes).toFixed(2)} × the inputs (${(inputBytes / 2 ** 20).toFixed(0)} MiB)`);

  for (const n of [1000, 3000]) {
    // Correlation-like weights in [-1, 1)
    const w = sparseActivations(n, n, 7 + n);
    const rand = seededRandom(n);
    for (let i = 0; i < w.data.length; i++) w.data[i] = 2 * rand() - 1;
    const s = await seconds(async () => maxWeightAssignment(w));
    console.log(`Hungarian ${n}×${n}: ${s.toFixed(2)} s`);
  }
}
