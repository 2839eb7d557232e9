// The normalised in-memory SAE every layout loads into.
import type { Hookpoint } from './hookpoint.ts';

export type SaeActivation = { kind: 'topk'; k: number } | { kind: 'relu' } | { kind: 'jumprelu'; threshold: Float32Array };

export type SaeLayout = 'sparsify' | 'saelens' | 'gemmascope';

export interface SaeSource {
  layout: SaeLayout;
  /** The weights file (safetensors or npz). */
  file: string;
  /** cfg.json next to it, when the layout has one. */
  configFile?: string;
  /** sha256 of the weights file bytes: the SAE's identity for caching and lineage. */
  sha256: string;
  /** dtype the weights were stored in before widening to f32. */
  dtype: string;
  /** The residual tensor the SAE's library says it was trained on, when something on disk says. */
  hookpoint?: Hookpoint;
}

export interface Sae {
  dIn: number;
  numFeatures: number;
  /**
   * Encoder weights as F × d (row f = feature f's encoder direction), row-major. Rows are
   * contiguous so a block of features is a zero-copy subarray.
   */
  wEnc: Float32Array;
  bEnc: Float32Array;
  /** Decoder rows, F × d, row-major. */
  wDec: Float32Array;
  bDec: Float32Array;
  /**
   * Whether the encoder sees x − b_dec (sparsify, SAELens `apply_b_dec_to_input`) or x itself
   * (Gemma Scope's JumpReLU reference encoder).
   */
  subtractDecoderBias: boolean;
  activation: SaeActivation;
  source: SaeSource;
}

/**
 * `pre`: ReLU(W_enc(x − b_dec) + b_enc) before the sparsifying step (what the original pairs on
 * for sparsify SAEs); `post`: the SAE's codes (TopK / ReLU / JumpReLU).
 */
export type EncodeMode = 'pre' | 'post';
