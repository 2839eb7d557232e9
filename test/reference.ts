// The reference data (the original code's numbers on seeded inputs), typed, and the one conversion
// every numeric test needs. The project carries its own copy, compressed, in test/reference/
// (made by test/reference/pack.ts; input matrices at the float32 precision the tests use).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import type { Mat } from '../pipelines/kernels/gemm.ts';

function readReference<T>(name: string): T {
  return JSON.parse(gunzipSync(readFileSync(new URL(`./reference/${name}.gz`, import.meta.url))).toString('utf8')) as T;
}

export interface SimilarityCase {
  name: string;
  R: number[][];
  Rp: number[][];
  svcca_reference: number;
  svcca_corrected: number;
  svcca_corrected_k: [number, number];
  rsa_reference: number;
  rsa_euclidean_inner: number;
  linear_cka: number;
  procrustes_rel_rmse?: number;
  permutations: number[][];
  svcca_reference_permuted: number[];
  svcca_corrected_permuted: number[];
  rsa_reference_permuted: number[];
}

export interface PairingCase {
  name: string;
  A: number[][];
  B: number[][];
  argmax_a_for_each_b: number[];
  max_corr_for_each_b: number[];
  hungarian_a_for_each_b?: number[];
  hungarian_total_corr?: number;
}

export const similarityCases = (): SimilarityCase[] => readReference<{ cases: SimilarityCase[] }>('similarity_cases.json').cases;
export const pairingCases = (): PairingCase[] => readReference<{ cases: PairingCase[] }>('pairing_cases.json').cases;
export const pipelineCasesFile = <T>(): T => readReference<T>('pipeline_cases.json');

/** Nested JSON rows as a row-major f32 matrix. */
export const toMat = (x: number[][]): Mat => ({ data: Float32Array.from(x.flat()), rows: x.length, cols: x[0]!.length });
