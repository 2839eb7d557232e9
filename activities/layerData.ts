// Loading what the layer-pair activities work on, from artifact ids: an SAE over a layer's
// stored residuals as a block-wise activation source (never tokens × features in memory), the
// decoded token at every kept position (special positions are not extracted), and the pairing
// artifact's files.
import { INDEX_FILE } from '../pipelines/extract/layout.ts';
import { activationRows, readTokenTable } from '../pipelines/extract/readActivations.ts';
import { UserInputError } from '../pipelines/errors.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import type { ActivationSource } from '../pipelines/pair/activationSource.ts';
import { rowsFollow, type LabelRule } from '../pipelines/pair/labels.ts';
import type { TopActivations } from '../pipelines/pair/streamingCorrelation.ts';
import { loadSae, saeActivationSource, type EncodeMode, type Sae } from '../pipelines/sae/index.ts';
import { loadTokenizer, tokenStrings } from '../pipelines/tokenize/loadTokenizer.ts';
import { assertSameTokenTables } from '../pipelines/tokenize/sameTokenization.ts';
import { readParquetTable } from '../storage/parquet.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { artifactFolder, readJsonArtifact, sourceAt } from './storeAccess.ts';
import type { LayerPairInput, PairSide } from './types.ts';
import type { PairJobSide } from '../pipelines/pair/pairJob.ts';

export const PAIRS_FILE = 'pairs.parquet';
export const PAIRING_FILE = 'pairing.json';
export const TOP_FILE = 'top.json';

export interface SideData {
  sae: Sae;
  source: ActivationSource;
  decoder: Mat;
  extractDir: string;
  /** Where the side was loaded from, for a compute job to load it again in its own thread. */
  paths: PairJobSide;
}

async function loadSide(store: ArtifactStore, side: PairSide, mode: EncodeMode): Promise<SideData> {
  const extractDir = await artifactFolder(store, side.extractId, INDEX_FILE);
  const rows = await activationRows(extractDir, side.layer);
  const saePath = await sourceAt(store, side.saeId, side.saePath);
  const sae = await loadSae(saePath);
  if (sae.dIn !== rows.width) {
    throw new UserInputError(`SAE d_in=${sae.dIn} (${sae.source.file}) does not match the residual width ${rows.width} of ${side.model} layer ${side.layer}`);
  }
  const paths = { extractDir, layer: side.layer, saePath, model: side.model };
  return { sae, source: saeActivationSource(sae, rows, mode), decoder: { data: sae.wDec, rows: sae.numFeatures, cols: sae.dIn }, extractDir, paths };
}

/**
 * Decoded token strings of every extracted row, and which rows continue each other. Both sides
 * must hold the same kept tokens (special positions are left out of both).
 */
async function decodedTokens(store: ArtifactStore, input: LayerPairInput, dirA: string, dirB: string): Promise<{ tokens: string[]; follows: Uint8Array; docIds: Int32Array }> {
  const ta = await readTokenTable(dirA);
  const tokenizer = await loadTokenizer(await sourceAt(store, input.a.tokenizerId, input.a.tokenizerPath));
  if (dirB !== dirA) {
    const tb = await readTokenTable(dirB);
    const tokB = input.b.tokenizerId === input.a.tokenizerId ? tokenizer : await loadTokenizer(await sourceAt(store, input.b.tokenizerId, input.b.tokenizerPath));
    assertSameTokenTables({ model: input.a.model, tokenizer, table: ta }, { model: input.b.model, tokenizer: tokB, table: tb }, dirB);
  }
  return { tokens: tokenStrings(tokenizer, ta.tokenIds), follows: rowsFollow(ta.docIds, ta.positions), docIds: ta.docIds };
}

/** What a pairing job reads for each side (paths, verified here), the token and the document of every row, and which rows continue each other. */
export async function layerPairPaths(store: ArtifactStore, input: LayerPairInput): Promise<{ a: PairJobSide; b: PairJobSide; tokens: string[]; docIds: Int32Array; follows: Uint8Array }> {
  const side = async (s: PairSide): Promise<PairJobSide> => ({
    extractDir: await artifactFolder(store, s.extractId, INDEX_FILE),
    layer: s.layer,
    saePath: await sourceAt(store, s.saeId, s.saePath),
    model: s.model,
  });
  const a = await side(input.a), b = await side(input.b);
  const { tokens, docIds, follows } = await decodedTokens(store, input, a.extractDir, b.extractDir);
  return { a, b, tokens, docIds, follows };
}

/** Both sides of a layer pair as activation sources, the token at every position, and which positions continue each other. */
export async function loadLayerPair(store: ArtifactStore, input: LayerPairInput): Promise<{ a: SideData; b: SideData; tokens: string[]; follows: Uint8Array }> {
  const a = await loadSide(store, input.a, input.pairing.encode);
  const b = await loadSide(store, input.b, input.pairing.encode);
  const { tokens, follows } = await decodedTokens(store, input, a.extractDir, b.extractDir);
  return { a, b, tokens, follows };
}

export interface StoredPairing {
  /** How pairs were made (absent in pairings written before one-to-one methods: greedy). */
  method?: import('../pipelines/config.ts').PairingMethod;
  /** After every filter stage, and the features without a label on each side. */
  counts: import('../pipelines/pair/filters.ts').FilterCounts & import('../pipelines/pair/pairLayer.ts').LabelCounts;
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

/** What TOP_FILE holds: each feature's top activations (positions and values) and the label rule they serve. */
export interface StoredTop {
  k: number;
  rule: LabelRule;
  a: number[];
  b: number[];
  valuesA: number[];
  valuesB: number[];
}

export function storedTop(top: { a: TopActivations; b: TopActivations }, rule: LabelRule): StoredTop {
  return { k: top.a.k, rule, a: Array.from(top.a.positions), b: Array.from(top.b.positions), valuesA: Array.from(top.a.values), valuesB: Array.from(top.b.values) };
}

/** The pairing's top activations of both sides and its label rule: labels downstream are made exactly as the keyword filter's were. */
export async function readTop(store: ArtifactStore, pairId: string): Promise<{ a: TopActivations; b: TopActivations; rule: LabelRule }> {
  const j = await readJsonArtifact<StoredTop>(store, pairId, TOP_FILE);
  const top = (positions: number[], values: number[]): TopActivations => ({ k: j.k, positions: Int32Array.from(positions), values: Float32Array.from(values) });
  return { a: top(j.a, j.valuesA), b: top(j.b, j.valuesB), rule: j.rule };
}

export function rowsOf(m: Mat, rows: readonly number[]): Mat {
  const out = new Float32Array(rows.length * m.cols);
  rows.forEach((r, i) => out.set(m.data.subarray(r * m.cols, (r + 1) * m.cols), i * m.cols));
  return { data: out, rows: rows.length, cols: m.cols };
}
