// Seeded random SAEs and residuals for the SAE tests (tiny sizes, exact references in JS).
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import type { Sae, SaeActivation } from '../pipelines/sae/types.ts';
import { gaussian, seededRandom } from '../pipelines/random.ts';

export function randomSae(seed: number, d: number, F: number, activation: SaeActivation): Sae {
  const g = gaussian(seededRandom(seed));
  const r = (n: number, s: number) => Float32Array.from({ length: n }, () => g() * s);
  return {
    dIn: d,
    numFeatures: F,
    wEnc: r(F * d, 1 / Math.sqrt(d)),
    bEnc: r(F, 0.3),
    wDec: r(F * d, 1),
    bDec: r(d, 0.2),
    subtractDecoderBias: true,
    activation,
    source: { layout: 'sparsify', file: `random-${seed}`, sha256: String(seed), dtype: 'F32' },
  };
}

export function randomX(seed: number, T: number, d: number): Mat {
  const g = gaussian(seededRandom(seed));
  return mat(T, d, Float32Array.from({ length: T * d }, () => g()));
}

