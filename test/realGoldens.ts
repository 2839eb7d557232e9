// Access to the goldens in test/fixtures/real/ (made by the real reference libraries with
// make_goldens.py; see its manifest.json): the models' Hugging Face hidden states and every SAE's
// library-computed codes and reconstructions.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readNpy, toFloat32 } from '../pipelines/io/npy.ts';
import { mat, type Mat } from '../pipelines/kernels/gemm.ts';
import type { PresetName } from '../pipelines/model/presets.ts';

export const REAL_DIR = join(import.meta.dirname, 'fixtures', 'real');

export interface RealDocument {
  text: string;
  input_ids: number[];
  attention_mask: number[];
  offset: number;
  length: number;
  tokens: string[];
  special_positions: number[];
}

export interface RealModel {
  family: string;
  ufg_preset: PresetName;
  num_layers: number;
  d_model: number;
  folder: string;
  export: { task: string; inputs: string[] };
  tokenizer: { adds_bos: boolean; bos_token_id: number | null };
}

export interface RealSae {
  id: string;
  library: string;
  layout: 'sparsify' | 'saelens' | 'gemmascope';
  model: string;
  path: string;
  weights_file: string;
  dtype: 'float32' | 'bfloat16' | 'float16';
  architecture: 'topk' | 'standard' | 'jumprelu';
  d_in: number;
  num_latents: number;
  k: number | null;
  apply_b_dec_to_input?: boolean;
  rescale_acts_by_decoder_norm?: boolean | null;
  hookpoint: string;
  trained_on: { ufg_layer: number };
  goldens: Record<string, Record<string, string>>;
  fit: { right: { ufg_layer: number; fvu: number }; wrong: { ufg_layer: number; fvu: number } };
}

export interface RealManifest {
  golden_documents: string[];
  models: Record<string, RealModel>;
  saes: RealSae[];
}

export const manifest: RealManifest = JSON.parse(readFileSync(join(REAL_DIR, 'manifest.json'), 'utf8'));

export function documentsOf(family: string): RealDocument[] {
  const meta = JSON.parse(readFileSync(join(REAL_DIR, manifest.models[family]!.folder, 'hidden_states.json'), 'utf8'));
  return meta.documents as RealDocument[];
}

/**
 * ufg layer `layer` of the golden documents as HF computes it ([tokens, d]): hidden_states[layer]
 * for layer < L, the raw output of the last block for layer L.
 */
export async function hfLayer(family: string, layer: number): Promise<Mat> {
  const m = manifest.models[family]!;
  const folder = join(REAL_DIR, m.folder);
  if (layer === m.num_layers) return npyMatrix(join(folder, 'last_block_output.npy'));
  const all = await readNpy(join(folder, 'hidden_states.npy'));
  const [, T, d] = all.shape as [number, number, number];
  const data = toFloat32(all).slice(layer * T * d, (layer + 1) * T * d);
  return mat(T, d, data);
}

/** HF's own last hidden_states entry (final norm applied), [tokens, d]. */
export async function hfFinalNormed(family: string): Promise<Mat> {
  const m = manifest.models[family]!;
  const all = await readNpy(join(REAL_DIR, m.folder, 'hidden_states.npy'));
  const [, T, d] = all.shape as [number, number, number];
  return mat(T, d, toFloat32(all).slice(m.num_layers * T * d, (m.num_layers + 1) * T * d));
}

export async function npyMatrix(path: string): Promise<Mat> {
  const a = await readNpy(path);
  if (a.shape.length !== 2) throw new Error(`${path}: expected 2-D, got (${a.shape.join(', ')})`);
  return mat(a.shape[0]!, a.shape[1]!, toFloat32(a));
}

/** A golden array of an SAE (`which` = right | wrong | right_native_dtype), as f32 [rows, cols]. */
export async function saeGolden(sae: RealSae, which: string, name: string): Promise<Mat> {
  const rel = sae.goldens[which]?.[name];
  if (!rel) throw new Error(`${sae.id}: no golden ${which}/${name}`);
  return npyMatrix(join(REAL_DIR, rel));
}

/** Dense [T, F] codes from sparsify's top_acts / top_indices. */
export async function sparsifyCodes(sae: RealSae, which: string): Promise<Mat> {
  const acts = await saeGolden(sae, which, 'top_acts');
  const idx = await saeGolden(sae, which, 'top_indices');
  const out = mat(acts.rows, sae.num_latents);
  for (let t = 0; t < acts.rows; t++) {
    for (let j = 0; j < acts.cols; j++) out.data[t * sae.num_latents + idx.data[t * idx.cols + j]!] = acts.data[t * acts.cols + j]!;
  }
  return out;
}

/** Largest |a − b| over all entries, divided by the largest |b| (a scale-relative error). */
export function relativeError(a: Mat, b: Mat): number {
  if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`shape [${a.rows}, ${a.cols}] vs [${b.rows}, ${b.cols}]`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.data.length; i++) {
    diff = Math.max(diff, Math.abs(a.data[i]! - b.data[i]!));
    scale = Math.max(scale, Math.abs(b.data[i]!));
  }
  return diff / Math.max(scale, Number.MIN_VALUE);
}
