// SVCCA (8192 paired rows × 512 (A) / 768 (B) dimensions) and RSA (at 2000 and 8192 rows) with a
// 1000-permutation null, against two numpy/scipy baselines (bench/similarity_baseline.py, float64,
// in bench/.venv — created here from PyPI if missing): one that recomputes every permuted score
// from scratch, and one that reuses what a permutation does not change (SVCCA: each side's SVD
// once, svdvals(Uxᵀ·Uy[perm]) per permutation; RSA: ranks once, a vectorised gather + dot per
// permutation). All run on the same inputs and permutations (written as .npy); scores are compared
// (≤ 1e-4), and the BLAS library and kernel numpy ran (threadpoolctl) are printed. The numpy child
// runs without OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE, so OpenBLAS picks its own kernel.
// The from-scratch baseline scores only the first UFG_BENCH_SIM_BASELINE_SVCCA (20) / _RSA (3)
// permutations, the reuse baseline UFG_BENCH_SIM_REUSE_SVCCA (all) / _RSA (50); fewer than N are
// extrapolated linearly to N, and the output says so.
// Procrustes is timed against its own from-scratch path (UFG_BENCH_SIM_BASELINE_PROCRUSTES (3)
// permutations, extrapolated), since the numpy baseline has no Procrustes.
// Sizes: UFG_BENCH_SIM_ROWS (8192), UFG_BENCH_SIM_DIM_A (512), UFG_BENCH_SIM_DIM_B (768),
// UFG_BENCH_SIM_PERMUTATIONS (1000), UFG_BENCH_SIM_RSA_ROWS (2000,<rows>); UFG_BENCH_SIM_METRICS
// picks lines (svcca,rsa,procrustes).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeNpy } from '../pipelines/io/npy.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { seededRandom } from '../pipelines/random.ts';
import { nullPermutations, permutationNull } from '../pipelines/similarity/permutationNull.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';

const here = dirname(fileURLToPath(import.meta.url));
const VENV = join(here, '.venv');
const PYTHON = join(VENV, 'bin', 'python');

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

function ensureVenv(): void {
  const hasPackages = (): boolean => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy, scipy, threadpoolctl'], { stdio: 'ignore' }).status === 0;
  if (hasPackages()) return;
  console.log(`creating ${VENV} (numpy, scipy, threadpoolctl from PyPI)…`);
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', VENV]],
    [PYTHON, ['-m', 'pip', 'install', '--quiet', 'numpy', 'scipy', 'threadpoolctl']],
  ];
  for (const [cmd, args] of steps) {
    const r = spawnSync(cmd, args, { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`);
  }
}

/** Decoder-like rows: a decaying spectrum on A, and B = A·M + noise (related, not identical). */
function pairedRows(n: number, dA: number, dB: number): { x: Mat; y: Mat } {
  const r = seededRandom(12345);
  const g = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const x = new Float32Array(n * dA);
  for (let i = 0; i < n; i++) for (let c = 0; c < dA; c++) x[i * dA + c] = g() / Math.sqrt(1 + c / 8);
  const m = Float32Array.from({ length: dA * dB }, () => g() / Math.sqrt(dA));
  const y = new Float32Array(n * dB);
  for (let i = 0; i < n; i++) {
    const row = y.subarray(i * dB, (i + 1) * dB);
    for (let k = 0; k < dA; k++) {
      const v = x[i * dA + k]!;
      for (let c = 0; c < dB; c++) row[c]! += v * m[k * dB + c]!;
    }
    for (let c = 0; c < dB; c++) row[c]! += 0.5 * g();
  }
  return { x: { data: x, rows: n, cols: dA }, y: { data: y, rows: n, cols: dB } };
}

/**
 * Procrustes: the fast null (row factors, batched products, scaled Newton–Schulz) against
 * recomputing every permuted score from scratch (`slow`), timed on the first `count`
 * permutations and extrapolated linearly; the shared permutations' scores are compared.
 */
async function procrustesLine(x: Mat, y: Mat, perms: Int32Array[], count: number): Promise<void> {
  const N = perms.length;
  const t0 = performance.now();
  const ours = await permutationNull(MEASURES.procrustes, x, y, { permutations: perms, keepScores: true });
  const oursS = (performance.now() - t0) / 1000;
  const t1 = performance.now();
  const slow = await permutationNull(MEASURES.procrustes, x, y, { permutations: perms.slice(0, count), keepScores: true, slow: true });
  const slowS = (performance.now() - t1) / 1000;
  let worst = Math.abs(slow.observed - ours.observed);
  slow.nullScores!.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ours.nullScores![i]!))));
  const perPermutation = slowS / (count + 1); // the slow run also scores the observed pair once
  console.log(`procrustes: observed ${ours.observed.toFixed(4)}, null ${ours.nullMean.toFixed(4)} ± ${ours.nullSd.toFixed(4)}, p ${ours.p.toPrecision(3)}`);
  console.log(`  ufg fast null (observed + ${N} permutations): ${oursS.toFixed(1)} s`);
  console.log(`  from scratch: ${perPermutation.toFixed(2)} s per score, measured on ${count} permutations, extrapolated to ${N}: ${(perPermutation * (N + 1)).toFixed(0)} s`);
  console.log(`  speed-up ${((perPermutation * (N + 1)) / oursS).toFixed(1)}×; largest score difference ${worst.toExponential(2)} (must be ≤ 1e-4)`);
  if (!(worst <= 1e-4)) console.log(`  MISMATCH: procrustes fast and from-scratch scores differ by ${worst}`);
}

interface Baseline {
  observed: number;
  observed_seconds: number;
  scores: number[];
  seconds_per_permutation: number;
  blas: { prefix?: string; internal_api?: string; version?: string; architecture?: string; num_threads?: number; threading_layer?: string }[];
}

/** The environment of the numpy child: this one without OpenBLAS's kernel and cache overrides. */
function baselineEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.OPENBLAS_CORETYPE;
  delete env.OPENBLAS_L2_SIZE;
  return env;
}

function baseline(metric: 'svcca' | 'rsa', mode: 'scratch' | 'reuse', files: { a: string; b: string; p: string }, count: number): Baseline {
  const args = [join(here, 'similarity_baseline.py'), '--metric', metric, '--mode', mode, '--a', files.a, '--b', files.b, '--perms', files.p, '--count', String(count)];
  const r = spawnSync(PYTHON, args, { encoding: 'utf8', maxBuffer: 64 * 2 ** 20, env: baselineEnv() });
  if (r.status !== 0) throw new Error(`baseline ${metric} ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as Baseline;
}

function blasLine(b: Baseline): string {
  if (b.blas.length === 0) return 'no BLAS reported by threadpoolctl';
  return b.blas.map((l) => `${l.prefix}: ${l.internal_api} ${l.version}, kernel ${l.architecture}, ${l.num_threads} threads (${l.threading_layer})`).join('; ');
}

function firstRows(m: Mat, n: number): Mat {
  return { data: m.data.subarray(0, n * m.cols), rows: n, cols: m.cols };
}

async function writeInputs(dir: string, x: Mat, y: Mat, perms: Int32Array[]): Promise<{ a: string; b: string; p: string }> {
  const n = x.rows;
  const flat = new Int32Array(perms.length * n);
  perms.forEach((q, k) => flat.set(q, k * n));
  const files = { a: join(dir, `a${n}.npy`), b: join(dir, `b${n}.npy`), p: join(dir, `perms${n}.npy`) };
  await writeNpy(files.a, x);
  await writeNpy(files.b, y);
  await writeNpy(files.p, { data: flat, shape: [perms.length, n] });
  return files;
}

/**
 * One metric at one size: ufg's null, then both numpy baselines (each on its first `counts`
 * permutations, extrapolated linearly to N where fewer), their times, ratios and the largest score
 * difference on the permutations they share with ufg.
 */
async function metricLine(metric: 'svcca' | 'rsa', x: Mat, y: Mat, N: number, counts: { scratch: number; reuse: number }, dir: string): Promise<void> {
  const n = x.rows;
  const perms = nullPermutations(n, 7, 0, N);
  const files = await writeInputs(dir, x, y, perms);
  const t0 = performance.now();
  const ours = await permutationNull(MEASURES[metric], x, y, { permutations: perms, keepScores: true });
  const oursS = (performance.now() - t0) / 1000;
  const rssMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`${metric}, ${n} rows × ${x.cols} / ${y.cols}: observed ${ours.observed.toFixed(4)}, null ${ours.nullMean.toFixed(4)} ± ${ours.nullSd.toFixed(4)}, p ${ours.p.toPrecision(3)}${ours.extras ? ` ${JSON.stringify(ours.extras)}` : ''}`);
  console.log(`  ufg (observed + ${N}-permutation null): ${oursS.toFixed(1)} s (peak RSS of this process so far ${rssMiB.toFixed(0)} MiB)`);
  for (const mode of ['scratch', 'reuse'] as const) {
    const count = Math.min(N, counts[mode]);
    const base = baseline(metric, mode, files, count);
    let worst = Math.abs(base.observed - ours.observed);
    base.scores.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ours.nullScores![i]!))));
    const baseS = base.observed_seconds + base.seconds_per_permutation * N;
    const how = count === N ? `all ${N} permutations` : `measured on ${count} permutations, extrapolated linearly to ${N}`;
    console.log(
      `  numpy ${mode === 'scratch' ? 'from scratch' : 'reuse'}: ${base.observed_seconds.toFixed(2)} s observed + ${(base.seconds_per_permutation * 1000).toFixed(1)} ms per permutation (${how}): ${baseS.toFixed(1)} s` +
        ` → ufg speed-up ${(baseS / oursS).toFixed(2)}×; largest score difference ${worst.toExponential(2)} (must be ≤ 1e-4)`,
    );
    console.log(`    BLAS: ${blasLine(base)}`);
    if (!(worst <= 1e-4)) console.log(`  MISMATCH: ${metric} scores differ from the ${mode} baseline by ${worst}`);
  }
}

function envList(name: string, fallback: number[]): number[] {
  const v = process.env[name];
  if (!v) return fallback;
  return v.split(',').map(Number).filter((k) => Number.isInteger(k) && k > 3);
}

export async function run(): Promise<void> {
  const n = envInt('UFG_BENCH_SIM_ROWS', 8192);
  const dA = envInt('UFG_BENCH_SIM_DIM_A', 512);
  const dB = envInt('UFG_BENCH_SIM_DIM_B', 768);
  const N = envInt('UFG_BENCH_SIM_PERMUTATIONS', 1000);
  const rsaRows = envList('UFG_BENCH_SIM_RSA_ROWS', [2000, n]).filter((k) => k <= n);
  const counts = {
    svcca: { scratch: envInt('UFG_BENCH_SIM_BASELINE_SVCCA', 20), reuse: envInt('UFG_BENCH_SIM_REUSE_SVCCA', N) },
    rsa: { scratch: envInt('UFG_BENCH_SIM_BASELINE_RSA', 3), reuse: envInt('UFG_BENCH_SIM_REUSE_RSA', 50) },
  };
  ensureVenv();
  const dir = mkdtempSync(join(tmpdir(), 'ufg-bench-similarity-'));
  try {
    const { x, y } = pairedRows(n, dA, dB);
    console.log(`${n} paired rows × ${dA} / ${dB} dims, ${N} permutations; RSA at ${rsaRows.join(', ')} rows`);
    const wanted = (process.env.UFG_BENCH_SIM_METRICS ?? 'svcca,rsa,procrustes').split(',');
    if (wanted.includes('svcca')) await metricLine('svcca', x, y, N, counts.svcca, dir);
    if (wanted.includes('rsa')) for (const rows of rsaRows) await metricLine('rsa', firstRows(x, rows), firstRows(y, rows), N, counts.rsa, dir);
    if (wanted.includes('procrustes')) await procrustesLine(x, y, nullPermutations(n, 7, 0, N), envInt('UFG_BENCH_SIM_BASELINE_PROCRUSTES', 3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
