// SVCCA and RSA with a 1000-permutation null on 8192 paired rows × 512 (A) / 768 (B) dimensions,
// against a numpy/scipy baseline that recomputes every permuted score from scratch
// (bench/similarity_baseline.py, in bench/.venv — created here from PyPI if missing). Both run on
// the same inputs and permutations (written as .npy); their scores are compared (≤ 1e-4).
// The baseline scores only the first UFG_BENCH_SIM_BASELINE_SVCCA (20) / _RSA (3) permutations:
// from scratch, a full 1000-permutation baseline would take hours. Its time per permutation is
// extrapolated linearly to N, and the output says so.
// Procrustes is timed against its own from-scratch path (UFG_BENCH_SIM_BASELINE_PROCRUSTES (3)
// permutations, extrapolated), since the numpy baseline has no Procrustes.
// Sizes: UFG_BENCH_SIM_ROWS (8192), UFG_BENCH_SIM_DIM_A (512), UFG_BENCH_SIM_DIM_B (768),
// UFG_BENCH_SIM_PERMUTATIONS (1000); UFG_BENCH_SIM_METRICS picks lines (svcca,rsa,procrustes).
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
  const hasPackages = (): boolean => existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy, scipy'], { stdio: 'ignore' }).status === 0;
  if (hasPackages()) return;
  console.log(`creating ${VENV} (numpy, scipy from PyPI)…`);
  const steps: [string, string[]][] = [
    ['python3', ['-m', 'venv', VENV]],
    [PYTHON, ['-m', 'pip', 'install', '--quiet', 'numpy', 'scipy']],
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
}

export async function run(): Promise<void> {
  const n = envInt('UFG_BENCH_SIM_ROWS', 8192);
  const dA = envInt('UFG_BENCH_SIM_DIM_A', 512);
  const dB = envInt('UFG_BENCH_SIM_DIM_B', 768);
  const N = envInt('UFG_BENCH_SIM_PERMUTATIONS', 1000);
  const baselineCounts = { svcca: envInt('UFG_BENCH_SIM_BASELINE_SVCCA', 20), rsa: envInt('UFG_BENCH_SIM_BASELINE_RSA', 3) };
  ensureVenv();
  const dir = mkdtempSync(join(tmpdir(), 'ufg-bench-similarity-'));
  try {
    const { x, y } = pairedRows(n, dA, dB);
    const perms = nullPermutations(n, 7, 0, N);
    const flat = new Int32Array(N * n);
    perms.forEach((p, k) => flat.set(p, k * n));
    const [a, b, p] = [join(dir, 'a.npy'), join(dir, 'b.npy'), join(dir, 'perms.npy')];
    await writeNpy(a, x);
    await writeNpy(b, y);
    await writeNpy(p, { data: flat, shape: [N, n] });
    console.log(`${n} paired rows × ${dA} / ${dB} dims, ${N} permutations`);

    const wanted = (process.env.UFG_BENCH_SIM_METRICS ?? 'svcca,rsa,procrustes').split(',');
    for (const metric of (['svcca', 'rsa'] as const).filter((m) => wanted.includes(m))) {
      const t0 = performance.now();
      const ours = await permutationNull(MEASURES[metric], x, y, { permutations: perms, keepScores: true });
      const oursS = (performance.now() - t0) / 1000;
      const rssMiB = process.resourceUsage().maxRSS / 1024;

      const count = Math.min(N, baselineCounts[metric]);
      const r = spawnSync(PYTHON, [join(here, 'similarity_baseline.py'), '--metric', metric, '--a', a, '--b', b, '--perms', p, '--count', String(count)], {
        encoding: 'utf8',
        maxBuffer: 64 * 2 ** 20,
      });
      if (r.status !== 0) throw new Error(`baseline failed: ${r.stderr}`);
      const base = JSON.parse(r.stdout) as Baseline;
      let worst = Math.abs(base.observed - ours.observed);
      base.scores.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - ours.nullScores![i]!))));
      const baseS = base.observed_seconds + base.seconds_per_permutation * N;

      console.log(`${metric}: observed ${ours.observed.toFixed(4)}, null ${ours.nullMean.toFixed(4)} ± ${ours.nullSd.toFixed(4)}, p ${ours.p.toPrecision(3)}`);
      console.log(`  ufg (observed + ${N}-permutation null): ${oursS.toFixed(1)} s (peak RSS so far ${rssMiB.toFixed(0)} MiB)`);
      console.log(
        `  numpy/scipy from scratch: ${base.observed_seconds.toFixed(2)} s observed + ${base.seconds_per_permutation.toFixed(2)} s per permutation, ` +
          `measured on ${count} permutations and extrapolated linearly to ${N}: ${baseS.toFixed(0)} s`,
      );
      console.log(`  speed-up: ${(baseS / oursS).toFixed(1)}× (target ≥ 10×); largest score difference on the shared permutations ${worst.toExponential(2)} (must be ≤ 1e-4)`);
      if (!(worst <= 1e-4)) console.log(`  MISMATCH: ${metric} scores differ from the baseline by ${worst}`);
    }
    if (wanted.includes('procrustes')) await procrustesLine(x, y, perms, envInt('UFG_BENCH_SIM_BASELINE_PROCRUSTES', 3));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
