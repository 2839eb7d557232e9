// SAE encoding throughput (2·T·d·F flops) as a fraction of a plain ONNX Runtime GEMM of the same
// shape measured in this run: whole-SAE encoding (pre / TopK / JumpReLU), block-wise encoding and
// the streaming feature-statistics pass. Sizes: UFG_BENCH_SAE_TOKENS (default 2048),
// UFG_BENCH_SAE_D (default 512), UFG_BENCH_SAE_FEATURES (default 8192); the target is
// T=8192, d=512, F=16384 (set the env vars on a machine with spare cores). Whole-SAE encoding
// is bound by writing the dense T × F result (fresh memory); block-wise encoding, which pairing and
// the statistics pass use, reuses ONNX Runtime's buffers and runs near GEMM speed.
import { gemm, mat, type Mat } from '../pipelines/kernels/gemm.ts';
import { encodeFeatureBlock, encodeSae, topkThresholds } from '../pipelines/sae/encode.ts';
import { computeFeatureStats } from '../pipelines/sae/featureStats.ts';
import type { Sae, SaeActivation } from '../pipelines/sae/types.ts';

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

function lcg(seed: number, n: number, scale: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = (s / 4294967296 - 0.5) * scale;
  }
  return out;
}

function sae(d: number, F: number, activation: SaeActivation): Sae {
  return {
    dIn: d,
    numFeatures: F,
    wEnc: lcg(1, F * d, 2 / Math.sqrt(d)),
    bEnc: lcg(2, F, 0.2),
    wDec: lcg(3, F * d, 1),
    bDec: lcg(4, d, 0.1),
    subtractDecoderBias: true,
    activation,
    source: { layout: 'sparsify', file: 'bench', sha256: `bench-${activation.kind}`, dtype: 'F32' },
  };
}

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return (performance.now() - t0) / 1000;
}

/**
 * Best-of-`reps` times of `f` and of the baseline, measured alternately after one warm-up each,
 * so load from other processes on a shared machine hits both alike.
 */
async function paired(reps: number, base: () => Promise<unknown>, f: () => Promise<unknown>): Promise<{ s: number; base: number }> {
  await base();
  await f();
  let bs = Infinity;
  let fs = Infinity;
  for (let i = 0; i < reps; i++) {
    bs = Math.min(bs, await time(base));
    fs = Math.min(fs, await time(f));
  }
  return { s: fs, base: bs };
}

export async function run(): Promise<void> {
  const T = envInt('UFG_BENCH_SAE_TOKENS', 2048);
  const d = envInt('UFG_BENCH_SAE_D', 512);
  const F = envInt('UFG_BENCH_SAE_FEATURES', 8192);
  const reps = envInt('UFG_BENCH_SAE_REPS', 3);
  const flops = 2 * T * d * F;
  const x: Mat = mat(T, d, lcg(5, T * d, 2));
  const w: Mat = mat(F, d, lcg(1, F * d, 2 / Math.sqrt(d)));
  console.log(`SAE encode bench: T=${T} d=${d} F=${F} (${(flops / 1e9).toFixed(1)} GFLOP per pass), best of ${reps}`);
  // Compute-bound reference: a square 2048³ GEMM (its output is small relative to its flops,
  // unlike the same-shape baseline below, which also pays for writing T × F floats).
  const sq = mat(2048, 2048, lcg(6, 2048 * 2048, 1));
  let sqBest = Infinity;
  await gemm(sq, sq);
  for (let i = 0; i < reps; i++) sqBest = Math.min(sqBest, await time(() => gemm(sq, sq)));
  const sqRate = (2 * 2048 ** 3) / sqBest / 1e9;
  console.log(`  square 2048³ ONNX GEMM: ${sqRate.toFixed(1)} GFLOP/s (percentages below: vs a same-shape GEMM run alternately; [vs square])`);
  const baseline = () => gemm(x, w, { transB: true });
  const line = async (name: string, f: () => Promise<unknown>) => {
    const { s, base } = await paired(reps, baseline, f);
    const rate = flops / s / 1e9;
    const baseRate = flops / base / 1e9;
    console.log(`  ${name.padEnd(44)} ${s.toFixed(3)} s  ${rate.toFixed(1).padStart(6)} GFLOP/s = ${((rate / baseRate) * 100).toFixed(0).padStart(3)}% of GEMM (${baseRate.toFixed(1)} GFLOP/s) [${((rate / sqRate) * 100).toFixed(0)}%]`);
  };
  const topk = sae(d, F, { kind: 'topk', k: 32 });
  const jump = sae(d, F, { kind: 'jumprelu', threshold: new Float32Array(F).fill(0.3) });
  await line('encode pre (whole SAE)', () => encodeSae(topk, x, 'pre'));
  await line('encode post TopK k=32 (whole SAE)', () => encodeSae(topk, x, 'post'));
  await line('encode post JumpReLU (whole SAE)', () => encodeSae(jump, x, 'post'));
  const block = 2048;
  await line(`block-wise pre (${block} features/block)`, async () => {
    for (let f = 0; f < F; f += block) await encodeFeatureBlock(topk, x, f, Math.min(F, f + block), 'pre');
  });
  // Block-wise TopK does the threshold pass (≈ one more encode) plus the blocks: ~2× the flops.
  await line('block-wise post TopK (incl. threshold pass)', async () => {
    const thr = await topkThresholds(topk, x, block);
    for (let f = 0; f < F; f += block) await encodeFeatureBlock(topk, x, f, Math.min(F, f + block), 'post', thr);
  });
  const chunks = Array.from({ length: Math.ceil(T / 1024) }, (_, i) => mat(Math.min(1024, T - i * 1024), d, x.data.subarray(i * 1024 * d, Math.min(T, (i + 1) * 1024) * d)));
  await line('feature stats, pre (mean/std/freq/max/top5)', () => computeFeatureStats(topk, chunks, { mode: 'pre', blockFeatures: block }));
}
