// Streaming pairing throughput as a fraction of a plain ONNX Runtime GEMM of the same shape,
// both measured in this run; peak RSS against the input size; Hungarian time at 1000 and 3000.
// Sizes: UFG_BENCH_PAIR_FEATURES (default 8192 per side), UFG_BENCH_PAIR_TOKENS (default 8192),
// the target's size (about 30 s here); set smaller values on a slow machine.
// The real path, as a sweep pairs a layer pair: residuals (T × d, d = 512 / 768 as Pythia-70m /
// -160m) in memory, random TopK SAEs encoding each block inside the correlation loop, at
// UFG_BENCH_PAIR_REAL_FEATURES (32768) per side and UFG_BENCH_PAIR_REAL_TOKENS (30000 as the
// paper; 0 skips it), against the GEMM rate of a T × 8192 by T × 8192 AᵀB measured next to it.
import { gemm, residentGemmRate } from '../pipelines/kernels/gemm.ts';
import { currentDevice, runComputeJob } from '../pipelines/kernels/session.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { correlateFeatures } from '../pipelines/pair/streamingCorrelation.ts';
import { maxWeightAssignment } from '../pipelines/pair/hungarian.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';
import { residualMatrix, saeActivationSource } from '../pipelines/sae/index.ts';
import type { Sae } from '../pipelines/sae/types.ts';

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

/** Gaussian-ish values (sum of uniforms) scaled by `scale`, seeded. */
function noise(n: number, seed: number, scale: number): Float32Array {
  const r = seededRandom(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (r() + r() + r() - 1.5) * 2 * scale;
  return out;
}

/** A TopK SAE with random weights (tied encoder/decoder directions), as sparsify trains them. */
function randomSae(numFeatures: number, dIn: number, seed: number): Sae {
  const wEnc = noise(numFeatures * dIn, seed, 1 / Math.sqrt(dIn));
  return {
    dIn,
    numFeatures,
    wEnc,
    bEnc: new Float32Array(numFeatures),
    wDec: wEnc,
    bDec: new Float32Array(dIn),
    subtractDecoderBias: true,
    activation: { kind: 'topk', k: 32 },
    source: { layout: 'sparsify', file: `random-${seed}.safetensors`, sha256: String(seed), dtype: 'float32' },
  };
}

interface RealPathFigures {
  pairS: number;
  pairG: number;
  gemmG: number;
  /** The device's GEMM with operands that never cross the bus (on a GPU, `gemmG` pays for copies). */
  residentG: number;
  plan: { blockA: number; blockB: number; tokenChunk: number };
  rssBytes: number;
  rssAboveStartBytes: number;
}

/**
 * Runs inside a compute thread, as a sweep's pairing job does (kernels/session.ts): every kernel
 * call is local, so neither the pairing nor its GEMM baseline pays for copies between threads.
 */
export async function realPathJob(args: { F: number; T: number }): Promise<RealPathFigures> {
  const { F, T } = args;
  const rssBefore = process.memoryUsage().rss;
  const side = (d: number, seed: number) =>
    saeActivationSource(randomSae(F, d, seed), residualMatrix({ data: noise(T * d, seed + 1, 1), rows: T, cols: d }), 'pre');
  const a = side(512, 11), b = side(768, 13);
  let plan = { blockA: 0, blockB: 0, tokenChunk: 0 };
  const pairS = await seconds(async () => {
    plan = (await correlateFeatures(a, b, { topK: 5 })).plan;
  });
  const rssBytes = process.resourceUsage().maxRSS * 1024;
  const g = 8192;
  const ga = sparseActivations(T, g, 21), gb = sparseActivations(T, g, 22);
  await gemm(sparseActivations(512, 256, 5), sparseActivations(512, 256, 6), { transA: true });
  const gemmS = Math.min(await seconds(() => gemm(ga, gb, { transA: true })), await seconds(() => gemm(ga, gb, { transA: true })));
  const residentG = (await residentGemmRate()) / 1e9;
  return { pairS, pairG: (2 * T * F * F) / pairS / 1e9, gemmG: (2 * T * g * g) / gemmS / 1e9, residentG, plan, rssBytes, rssAboveStartBytes: rssBytes - rssBefore };
}

async function realPath(): Promise<void> {
  const F = envInt('UFG_BENCH_PAIR_REAL_FEATURES', 32768);
  const T = Number(process.env.UFG_BENCH_PAIR_REAL_TOKENS ?? 30000);
  if (!(T > 0)) return;
  const r = await runComputeJob<{ F: number; T: number }, RealPathFigures>(new URL(import.meta.url), 'realPathJob', { F, T });
  console.log(
    `real path: pairing ${F}×${F} features of SAEs on d = 512 / 768 residuals, ${T} tokens (blocks ${r.plan.blockA}×${r.plan.blockB}, chunk ${r.plan.tokenChunk}; ` +
      `encode inside the loop, top-5 positions kept, in a compute thread as in a sweep): ${r.pairS.toFixed(1)} s, ${r.pairG.toFixed(1)} GFLOP/s`,
  );
  console.log(`ONNX Runtime GEMM ${T} × 8192 by ${T} × 8192 AᵀB in the same thread: ${r.gemmG.toFixed(1)} GFLOP/s; with operands resident on the device (${currentDevice()}): ${r.residentG.toFixed(1)} GFLOP/s`);
  console.log(
    `real-path pairing / GEMM throughput: ${(r.pairG / r.gemmG).toFixed(2)} (target ≥ 0.7 at 32k × 32k), / resident GEMM ${(r.pairG / r.residentG).toFixed(2)}; ` +
      `peak RSS ${(r.rssBytes / 2 ** 30).toFixed(2)} GiB (${(r.rssAboveStartBytes / 2 ** 30).toFixed(2)} GiB above the start)`,
  );
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

  await realPath();

  for (const n of [1000, 3000]) {
    // Correlation-like weights in [-1, 1)
    const w = sparseActivations(n, n, 7 + n);
    const rand = seededRandom(n);
    for (let i = 0; i < w.data.length; i++) w.data[i] = 2 * rand() - 1;
    const s = await seconds(async () => maxWeightAssignment(w));
    console.log(`Hungarian ${n}×${n}: ${s.toFixed(2)} s`);
  }
}
