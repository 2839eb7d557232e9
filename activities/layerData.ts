// Loading what the layer-pair activities work on, from artifact ids: an SAE over a layer's
// stored residuals as a block-wise activation source (never tokens × features in memory), the
// decoded token at every position, and the pairing artifact's files.
import { INDEX_FILE } from '../pipelines/extract/layout.ts';
import { activationRows, readTokenTable } from '../pipelines/extract/readActivations.ts';
import { UserInputError } from '../pipelines/errors.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import type { ActivationSource } from '../pipelines/pair/activationSource.ts';
import type { TopActivations } from '../pipelines/pair/streamingCorrelation.ts';
import { loadSae, saeActivationSource, type EncodeMode, type Sae } from '../pipelines/sae/index.ts';
import { loadTokenizer, tokenStrings } from '../pipelines/tokenize/loadTokenizer.ts';
import { readParquetTable } from '../storage/parquet.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { artifactFolder, readJsonArtifact, sourceAt } from './storeAccess.ts';
import type { LayerPairInput, PairSide } from './types.ts';

export const PAIRS_FILE = 'pairs.parquet';
export const PAIRING_FILE = 'pairing.json';
export const TOP_FILE = 'top.json';

export interface SideData {
  sae: Sae;
  source: ActivationSource;
  decoder: Mat;
  extractDir: string;
}

async function loadSide(store: ArtifactStore, side: PairSide, mode: EncodeMode): Promise<SideData> {
  const extractDir = await artifactFolder(store, side.extractId, INDEX_FILE);
  const rows = await activationRows(extractDir, side.layer);
  const sae = await loadSae(await sourceAt(store, side.saeId, side.saePath));
  if (sae.dIn !== rows.width) {
    throw new UserInputError(`SAE d_in=${sae.dIn} (${sae.source.file}) does not match the residual width ${rows.width} of ${side.model} layer ${side.layer}`);
  }
  return { sae, source: saeActivationSource(sae, rows, mode), decoder: { data: sae.wDec, rows: sae.numFeatures, cols: sae.dIn }, extractDir };
}

/** Decoded token strings of every extracted row; both sides must hold the same tokens. */
async function decodedTokens(store: ArtifactStore, a: PairSide, dirA: string, dirB: string): Promise<string[]> {
  const ta = await readTokenTable(dirA);
  if (dirB !== dirA) {
    const tb = await readTokenTable(dirB);
    const same = ta.tokenIds.length === tb.tokenIds.length && ta.tokenIds.every((v, i) => v === tb.tokenIds[i] && ta.docIds[i] === tb.docIds[i]);
    if (!same) throw new UserInputError(`the two extractions hold different tokens (${ta.tokenIds.length} vs ${tb.tokenIds.length}); both models must read the same tokenized corpus`, dirB);
  }
  const tokenizer = await loadTokenizer(await sourceAt(store, a.tokenizerId, a.tokenizerPath));
  return tokenStrings(tokenizer, ta.tokenIds);
}

/** Both sides of a layer pair as activation sources, and the token at every position. */
export async function loadLayerPair(store: ArtifactStore, input: LayerPairInput): Promise<{ a: SideData; b: SideData; tokens: string[] }> {
  const a = await loadSide(store, input.a, input.pairing.encode);
  const b = await loadSide(store, input.b, input.pairing.encode);
  return { a, b, tokens: await decodedTokens(store, input.a, a.extractDir, b.extractDir) };
}

export interface StoredPairing {
  /** How pairs were made (absent in pairings written before one-to-one methods: greedy). */
  method?: import('../pipelines/config.ts').PairingMethod;
  counts: import('../pipelines/pair/filters.ts').FilterCounts;
  meanCorr: number;
  meanCorrFiltered: number;
  meanPearson: number;
  meanPearsonFiltered: number;
  numTokens: number;
  numFeaturesA: number;
  numFeaturesB: number;
  /** hungarian / ot: pool sizes, the assignment's total correlation, Sinkhorn's iterations. */
  oneToOne?: { poolA: number; poolB: number; total: number; iterations?: number; converged?: boolean };
}

export interface KeptPairs {
  a: number[];
  b: number[];
  correlation: number[];
}

export async function readKeptPairs(store: ArtifactStore, pairId: string): Promise<KeptPairs> {
  const t = await readParquetTable(await store.localPath(pairId, PAIRS_FILE));
  return {
    a: t.columns.feature_a!.map(Number),
    b: t.columns.feature_b!.map(Number),
    correlation: t.columns.correlation!.map(Number),
  };
}

export function readPairing(store: ArtifactStore, pairId: string): Promise<StoredPairing> {
  return readJsonArtifact<StoredPairing>(store, pairId, PAIRING_FILE);
}

export async function readTop(store: ArtifactStore, pairId: string): Promise<{ a: TopActivations; b: TopActivations }> {
  const j = await readJsonArtifact<{ k: number; a: number[]; b: number[] }>(store, pairId, TOP_FILE);
  const top = (positions: number[]): TopActivations => ({ k: j.k, positions: Int32Array.from(positions), values: new Float32Array(positions.length) });
  return { a: top(j.a), b: top(j.b) };
}

export function rowsOf(m: Mat, rows: readonly number[]): Mat {
  const out = new Float32Array(rows.length * m.cols);
  rows.forEach((r, i) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { data: out, rows: rows.length, cols: m.cols };
}
