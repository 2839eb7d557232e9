// Readers over an extraction directory (layout.ts) for downstream stages: per-chunk matrices of
// one layer, the token table (ids, documents, positions: for labels), and random access to rows
// as a residual source for block-wise SAE encoding.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readArrowChunk, type ArrowChunk } from '../../storage/arrow.ts';
import { UserInputError } from '../errors.ts';
import type { Mat } from '../kernels/gemm.ts';
import { ACTIVATIONS_FORMAT, INDEX_FILE, type ActivationIndex, type LayerEntry } from './layout.ts';

export async function readActivationIndex(dir: string): Promise<ActivationIndex> {
  let text: string;
  try {
    text = await readFile(join(dir, INDEX_FILE), 'utf8');
  } catch {
    throw new UserInputError(`no ${INDEX_FILE}: not a complete activation extraction`, dir);
  }
  const index = JSON.parse(text) as ActivationIndex;
  if (index.format !== ACTIVATIONS_FORMAT) throw new UserInputError(`${INDEX_FILE} has format ${index.format}, expected ${ACTIVATIONS_FORMAT}`, dir);
  return index;
}

function layerEntry(index: ActivationIndex, layer: number, dir: string): LayerEntry {
  const e = index.layers.find((l) => l.layer === layer);
  if (!e) throw new UserInputError(`layer ${layer} was not extracted (layers: ${index.layers.map((l) => l.layer).join(', ')})`, dir);
  return e;
}

function layerMat(chunk: ArrowChunk, entry: LayerEntry, file: string): Mat {
  const col = chunk.columns.get(entry.column);
  if (!col || col.kind !== 'f32list' || col.width !== entry.width) throw new UserInputError(`chunk lacks column ${entry.column} of width ${entry.width}`, file);
  return { data: col.data, rows: chunk.numRows, cols: col.width };
}

/** The chunks of one layer in token order, each tokens × d. */
export async function* readActivationChunks(dir: string, layer: number): AsyncGenerator<Mat> {
  const index = await readActivationIndex(dir);
  const entry = layerEntry(index, layer, dir);
  for (const c of index.chunks) {
    const file = join(dir, c.file);
    yield layerMat(await readArrowChunk(file), entry, file);
  }
}

export interface TokenTable {
  tokenIds: Int32Array;
  docIds: Int32Array;
  positions: Int32Array;
}

/** Token id, document and position of every extracted row, in row order. */
export async function readTokenTable(dir: string): Promise<TokenTable> {
  const index = await readActivationIndex(dir);
  const out: TokenTable = { tokenIds: new Int32Array(index.numTokens), docIds: new Int32Array(index.numTokens), positions: new Int32Array(index.numTokens) };
  for (const c of index.chunks) {
    const chunk = await readArrowChunk(join(dir, c.file));
    for (const [name, key] of [['token_id', 'tokenIds'], ['doc_id', 'docIds'], ['position', 'positions']] as const) {
      const col = chunk.columns.get(name);
      if (!col || col.kind !== 'int32') throw new UserInputError(`chunk lacks column ${name}`, join(dir, c.file));
      out[key].set(col.data, c.firstToken);
    }
  }
  return out;
}

/** Random access to rows of one layer (keeps the last chunk read); matches sae's ResidualSource. */
export async function activationRows(dir: string, layer: number): Promise<{ numTokens: number; width: number; read(t0: number, t1: number): Promise<Mat> }> {
  const index = await readActivationIndex(dir);
  const entry = layerEntry(index, layer, dir);
  let cached: { chunk: number; mat: Mat } | undefined;
  const load = async (i: number): Promise<Mat> => {
    if (cached?.chunk !== i) {
      const file = join(dir, index.chunks[i]!.file);
      cached = { chunk: i, mat: layerMat(await readArrowChunk(file), entry, file) };
    }
    return cached.mat;
  };
  return {
    numTokens: index.numTokens,
    width: entry.width,
    async read(t0, t1) {
      if (!(0 <= t0 && t0 <= t1 && t1 <= index.numTokens)) throw new Error(`read(${t0}, ${t1}) outside ${index.numTokens} tokens`);
      const d = entry.width;
      const out = new Float32Array((t1 - t0) * d);
      for (let i = 0; i < index.chunks.length; i++) {
        const c = index.chunks[i]!;
        const lo = Math.max(t0, c.firstToken);
        const hi = Math.min(t1, c.firstToken + c.numTokens);
        if (lo >= hi) continue;
        const m = await load(i);
        out.set(m.data.subarray((lo - c.firstToken) * d, (hi - c.firstToken) * d), (lo - t0) * d);
      }
      return { data: out, rows: t1 - t0, cols: d };
    },
  };
}

/** All rows of one layer in one matrix (T × d): what a long stage holds once instead of re-reading chunks. */
export async function residualsInMemory(dir: string, layer: number): Promise<Mat> {
  const index = await readActivationIndex(dir);
  const entry = layerEntry(index, layer, dir);
  const d = entry.width;
  const out = new Float32Array(index.numTokens * d);
  for (const c of index.chunks) {
    const file = join(dir, c.file);
    const m = layerMat(await readArrowChunk(file), entry, file);
    out.set(m.data, c.firstToken * d);
  }
  return { data: out, rows: index.numTokens, cols: d };
}
