// Finds the SAE weights file for a layer from what a user passes: the file itself, the folder
// holding it, or a release folder with one sub-folder per layer (sparsify `layers.N`, SAELens
// `blocks.N.hook_resid_post`, Gemma Scope `layer_N/width_16k/average_l0_71`).
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { UserInputError } from '../errors.ts';
import type { SaeLayout } from './types.ts';

export interface LocatedSae {
  layout: SaeLayout | 'safetensors-unknown';
  file: string;
}

const KNOWN_FILES: Record<string, SaeLayout> = {
  'sae.safetensors': 'sparsify',
  'sae_weights.safetensors': 'saelens',
  'params.npz': 'gemmascope',
};

function layoutOfFile(file: string): LocatedSae['layout'] | undefined {
  const name = basename(file);
  if (name in KNOWN_FILES) return KNOWN_FILES[name];
  if (name.endsWith('.npz')) return 'gemmascope';
  if (name.endsWith('.safetensors')) return 'safetensors-unknown';
  return undefined;
}

/** A folder name that names layer `layer` (layers.3, layer_3, blocks.3.hook_resid_post, …). */
export function folderNamesLayer(name: string, layer: number): boolean {
  return new RegExp(`(^|[._-])(layers?|blocks?|l)[._-]?${layer}($|[._-])`, 'i').test(name);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

async function saeFilesUnder(dir: string, depth: number): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isFile() && e.name in KNOWN_FILES) out.push(p);
  }
  if (out.length > 0 || depth === 0) return out;
  for (const e of entries) if (e.isDirectory()) out.push(...(await saeFilesUnder(join(dir, e.name), depth - 1)));
  return out;
}

export async function locateSae(path: string, layer?: number): Promise<LocatedSae> {
  let info;
  try {
    info = await stat(path);
  } catch {
    throw new UserInputError('SAE path does not exist', path);
  }
  if (info.isFile()) {
    const layout = layoutOfFile(path);
    if (!layout) throw new UserInputError('not an SAE weights file (expected .safetensors or .npz)', path);
    return { layout, file: path };
  }
  const direct = await saeFilesUnder(path, 0);
  if (direct.length === 1) return { layout: layoutOfFile(direct[0]!)!, file: direct[0]! };
  if (direct.length > 1) throw new UserInputError(`folder holds several SAE files (${direct.map((f) => basename(f)).join(', ')}); pass one file`, path);
  if (layer === undefined) throw new UserInputError('folder holds no SAE weights file; pass the layer to look for a per-layer sub-folder', path);
  const subdirs = (await readdir(path, { withFileTypes: true })).filter((e) => e.isDirectory() && folderNamesLayer(e.name, layer));
  const found: string[] = [];
  for (const d of subdirs) if (await isDir(join(path, d.name))) found.push(...(await saeFilesUnder(join(path, d.name), 3)));
  if (found.length === 0) throw new UserInputError(`no SAE weights for layer ${layer} (looked for layers.${layer}/, layer_${layer}/, blocks.${layer}.*/)`, path);
  if (found.length > 1) throw new UserInputError(`several SAEs for layer ${layer}: ${found.join(', ')}; pass one of them`, path);
  return { layout: layoutOfFile(found[0]!)!, file: found[0]! };
}
