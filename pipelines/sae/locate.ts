// Finds SAE weights files on disk: the one SAE a path names (the file itself, or the folder that
// holds it, possibly a few levels down as in Gemma Scope's layer_N/width_…/average_l0_…/), and
// every SAE under a release folder (for the per-layer lookup by hookpoint in layerSaes.ts).
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

/** How deep below a folder SAE files are looked for (Gemma Scope: layer_N/width_w/average_l0_k/). */
const MAX_DEPTH = 4;

function layoutOfFile(file: string): LocatedSae['layout'] | undefined {
  const name = basename(file);
  if (name in KNOWN_FILES) return KNOWN_FILES[name];
  if (name.endsWith('.npz')) return 'gemmascope';
  if (name.endsWith('.safetensors')) return 'safetensors-unknown';
  return undefined;
}

/** Every SAE weights file (by its library's file name) under `dir`, depth-first, sorted. */
export async function saeFilesUnder(dir: string, depth = MAX_DEPTH): Promise<string[]> {
  const out: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) if (e.isFile() && e.name in KNOWN_FILES) out.push(join(dir, e.name));
  if (depth > 0) for (const e of entries) if (e.isDirectory() && !e.name.startsWith('.')) out.push(...(await saeFilesUnder(join(dir, e.name), depth - 1)));
  return out;
}

async function statOf(path: string) {
  try {
    return await stat(path);
  } catch {
    throw new UserInputError('SAE path does not exist', path);
  }
}

/** The one SAE `path` names: a weights file, or a folder with exactly one SAE in or below it. */
export async function locateSae(path: string): Promise<LocatedSae> {
  const info = await statOf(path);
  if (info.isFile()) {
    const layout = layoutOfFile(path);
    if (!layout) throw new UserInputError('not an SAE weights file (expected .safetensors or .npz)', path);
    return { layout, file: path };
  }
  const found = await saeFilesUnder(path);
  if (found.length === 0) throw new UserInputError(`folder holds no SAE weights file (${Object.keys(KNOWN_FILES).join(', ')})`, path);
  if (found.length > 1) {
    const some = found.slice(0, 4).map((f) => f.slice(path.length + 1)).join(', ');
    throw new UserInputError(`folder holds ${found.length} SAEs (${some}${found.length > 4 ? ', …' : ''}); name one of them`, path);
  }
  return { layout: layoutOfFile(found[0]!)!, file: found[0]! };
}

/** Every SAE under `path` (the file itself when `path` is a weights file). */
export async function locateAllSaes(path: string): Promise<LocatedSae[]> {
  const info = await statOf(path);
  if (info.isFile()) return [await locateSae(path)];
  return (await saeFilesUnder(path)).map((file) => ({ layout: layoutOfFile(file)!, file }));
}
