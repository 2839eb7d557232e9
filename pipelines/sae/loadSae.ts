// Loads an SAE in any of the three supported layouts into the normalised `Sae` form.
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UserInputError } from '../errors.ts';
import { hookpointOf } from './hookpoint.ts';
import { locateSae } from './locate.ts';
import { npzDtype, npzHas, npzTensorF32, openNpz } from './npz.ts';
import { sha256File } from '../../storage/atomic.ts';
import { openSafetensorsFile, readTensorF32, type F32Tensor } from './safetensors.ts';
import type { Sae, SaeActivation, SaeLayout } from './types.ts';

interface TensorReader {
  file: string;
  has(name: string): boolean;
  get(name: string): Promise<F32Tensor>;
  dtype(name: string): string;
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserInputError('missing cfg.json next to the SAE weights', file);
  }
  try {
    const v = JSON.parse(text);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('not an object');
    return v as Record<string, unknown>;
  } catch (e) {
    throw new UserInputError(`cfg.json is not a JSON object (${(e as Error).message})`, file);
  }
}

function transpose(data: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c]!;
  return out;
}

function expectShape(file: string, name: string, t: F32Tensor, shape: number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new UserInputError(`tensor "${name}" has shape [${t.shape.join(', ')}], expected [${shape.join(', ')}]`, file);
  }
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/** Loads the one SAE `path` names (its weights file, or the folder holding it; see locate.ts). */
export async function loadSae(path: string): Promise<Sae> {
  const located = await locateSae(path);

  let reader: TensorReader;
  if (located.layout === 'gemmascope') {
    // Read member by member from the file (npz.ts): wide Gemma Scope archives exceed 2 GiB.
    const npz = await openNpz(located.file);
    reader = { file: located.file, has: (n) => npzHas(npz, n), get: (n) => npzTensorF32(npz, n), dtype: (n) => npzDtype(npz, n) };
  } else {
    const st = await openSafetensorsFile(located.file);
    reader = { file: located.file, has: (n) => st.entries.has(n), get: (n) => readTensorF32(st, n), dtype: (n) => st.entries.get(n)?.dtype ?? 'missing' };
  }
  let layout: SaeLayout;
  if (located.layout === 'safetensors-unknown') {
    if (reader.has('encoder.weight')) layout = 'sparsify';
    else if (reader.has('W_enc')) layout = 'saelens';
    else throw new UserInputError('safetensors file has neither encoder.weight (sparsify) nor W_enc (SAELens)', located.file);
  } else layout = located.layout;

  const configFile = layout === 'gemmascope' ? undefined : join(dirname(located.file), 'cfg.json');
  const cfg = configFile ? await readJson(configFile) : {};
  const file = located.file;

  // Encoder to F × d; decoder F × d in every layout.
  const encName = layout === 'sparsify' ? 'encoder.weight' : 'W_enc';
  const enc = await reader.get(encName);
  if (enc.shape.length !== 2) throw new UserInputError(`tensor "${encName}" must be 2-D, has shape [${enc.shape.join(', ')}]`, file);
  const [numFeatures, dIn] = layout === 'sparsify' ? [enc.shape[0]!, enc.shape[1]!] : [enc.shape[1]!, enc.shape[0]!];
  const wEnc = layout === 'sparsify' ? enc.data : transpose(enc.data, dIn, numFeatures);
  const bEncT = await reader.get(layout === 'sparsify' ? 'encoder.bias' : 'b_enc');
  expectShape(file, layout === 'sparsify' ? 'encoder.bias' : 'b_enc', bEncT, [numFeatures]);
  const wDecT = await reader.get('W_dec');
  expectShape(file, 'W_dec', wDecT, [numFeatures, dIn]);
  const bDecT = await reader.get('b_dec');
  expectShape(file, 'b_dec', bDecT, [dIn]);

  const cfgD = positiveInt(cfg.d_in);
  if (cfgD !== undefined && cfgD !== dIn) throw new UserInputError(`cfg.json says d_in=${cfgD} but the weights have d_in=${dIn}`, configFile);

  let activation: SaeActivation;
  let subtractDecoderBias = true;
  if (layout === 'sparsify') {
    const k = positiveInt(cfg.k);
    if (k === undefined) throw new UserInputError('sparsify cfg.json needs a positive integer "k"', configFile);
    activation = { kind: 'topk', k: Math.min(k, numFeatures) };
  } else {
    if (layout === 'gemmascope') subtractDecoderBias = false;
    else if (cfg.apply_b_dec_to_input === false) subtractDecoderBias = false;
    if (layout === 'saelens') refuseRuntimeTransforms(cfg, configFile!);
    const kwargs = (cfg.activation_fn_kwargs ?? {}) as Record<string, unknown>;
    if (reader.has('threshold')) {
      const th = await reader.get('threshold');
      expectShape(file, 'threshold', th, [numFeatures]);
      activation = { kind: 'jumprelu', threshold: th.data };
    } else if (cfg.architecture === 'jumprelu') {
      throw new UserInputError('cfg.json says architecture "jumprelu" but the weights have no "threshold" tensor', file);
    } else if (cfg.architecture === 'topk' || cfg.activation_fn_str === 'topk') {
      const k = positiveInt(cfg.k) ?? positiveInt(kwargs.k);
      if (k === undefined) throw new UserInputError('TopK SAE config needs a positive integer "k"', configFile);
      activation = { kind: 'topk', k: Math.min(k, numFeatures) };
      if (cfg.rescale_acts_by_decoder_norm === true) foldDecoderNorms(wEnc, bEncT.data, wDecT.data, numFeatures, dIn);
    } else {
      activation = { kind: 'relu' };
    }
  }
  const hookpoint = await hookpointOf(file);
  // Streamed hash (the file's identity for caching and lineage), once the file has passed every
  // structural check: a hostile file is refused before gigabytes are hashed.
  const sha256 = await sha256File(located.file);
  return {
    dIn,
    numFeatures,
    wEnc,
    bEnc: bEncT.data,
    wDec: wDecT.data,
    bDec: bDecT.data,
    subtractDecoderBias,
    activation,
    source: { layout, file, configFile, sha256, dtype: reader.dtype(encName), ...(hookpoint ? { hookpoint } : {}) },
  };
}

/**
 * SAELens TopK with `rescale_acts_by_decoder_norm` (its training default) ranks and returns
 * hidden_pre · ‖W_dec_f‖ and decodes with W_dec_f / ‖W_dec_f‖ (saes/topk_sae.py). Folding the
 * norms into the weights gives exactly that with the plain encoder. Saving folds them once, but
 * the norms are 1 only up to rounding: in a bf16 release they are off by ~1e-3, which moves codes
 * and flips latents at the k-th place.
 */
function foldDecoderNorms(wEnc: Float32Array, bEnc: Float32Array, wDec: Float32Array, numFeatures: number, dIn: number): void {
  for (let f = 0; f < numFeatures; f++) {
    let sq = 0;
    for (let j = 0; j < dIn; j++) sq += wDec[f * dIn + j]! ** 2;
    const norm = Math.sqrt(sq);
    if (!(norm > 0)) continue; // a zero decoder row: the library multiplies by 0 and divides by 0; leave the latent as it is
    for (let j = 0; j < dIn; j++) {
      wEnc[f * dIn + j]! *= norm;
      wDec[f * dIn + j]! /= norm;
    }
    bEnc[f]! *= norm;
  }
}

/**
 * SAELens applies some input transforms at inference that are not in the weights: a layer norm or
 * a norm rescale of every activation, or a reshape for attention hooks. ufg does not apply them, so
 * such an SAE would give plausible, wrong codes: refuse it. `expected_average_only_in` is a training
 * scale that SAELens folds into the weights when it saves an inference SAE, so it needs nothing.
 */
function refuseRuntimeTransforms(cfg: Record<string, unknown>, configFile: string): void {
  const norm = cfg.normalize_activations;
  if (norm !== undefined && norm !== null && norm !== 'none' && norm !== 'expected_average_only_in') {
    throw new UserInputError(`normalize_activations=${JSON.stringify(norm)} is applied by SAELens at inference and ufg does not apply it; the codes would be wrong`, configFile);
  }
  const reshape = cfg.reshape_activations;
  if (reshape !== undefined && reshape !== null && reshape !== 'none') {
    throw new UserInputError(`reshape_activations=${JSON.stringify(reshape)} (an attention-head hook) is not a residual-stream SAE`, configFile);
  }
}

/** The SAE must read the residual stream it is applied to. */
export function assertSaeMatchesWidth(sae: Sae, width: number, modelFile: string): void {
  if (sae.dIn !== width) {
    throw new UserInputError(`SAE d_in=${sae.dIn} (${sae.source.file}) does not match the model's residual width ${width}`, modelFile);
  }
}
