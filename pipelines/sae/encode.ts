// SAE encoding on ONNX Runtime: whole-SAE (batches of tokens → all features) and block-wise
// (tokens → a slice of features), the latter for consumers that must not hold T × F at once.
import { createHash } from 'node:crypto';
import { checkAccumulation } from '../kernels/correlationKernels.ts';
import { mat, type Mat } from '../kernels/gemm.ts';
import { cachedSession, ort, WITH_ARENA } from '../kernels/session.ts';
import { blockAccumulateGraph, blockEncoderGraph, saeEncoderGraph, topkMergeGraph, type BlockKind } from './encodeGraphs.ts';
import type { ShiftedAccumulation } from '../pair/activationSource.ts';
import type { EncodeMode, Sae } from './types.ts';

const contentKeys = new WeakMap<Sae, string>();

/** Hash of everything encoding depends on; keys the cached per-SAE sessions. */
export function saeContentKey(sae: Sae): string {
  let key = contentKeys.get(sae);
  if (!key) {
    const h = createHash('sha256');
    const add = (a: Float32Array) => h.update(new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    h.update(JSON.stringify({ d: sae.dIn, F: sae.numFeatures, sub: sae.subtractDecoderBias, act: sae.activation.kind, k: sae.activation.kind === 'topk' ? sae.activation.k : 0 }));
    add(sae.wEnc);
    add(sae.bEnc);
    add(sae.bDec);
    if (sae.activation.kind === 'jumprelu') add(sae.activation.threshold);
    key = h.digest('hex');
    contentKeys.set(sae, key);
  }
  return key;
}

function checkWidth(sae: Sae, x: Mat): void {
  if (x.cols !== sae.dIn) throw new Error(`SAE encode: residuals have ${x.cols} columns, SAE d_in is ${sae.dIn}`);
}

function rowsOf(x: Mat, start: number, end: number): Mat {
  return mat(end - start, x.cols, x.data.subarray(start * x.cols, end * x.cols));
}

export interface EncodeOptions {
  /** Tokens per ONNX Runtime call (bounds the transient T × F buffer). Default 512. */
  batchTokens?: number;
}

/** Dense activations [T, F] of all features. Only for sizes where T × F fits comfortably. */
export async function encodeSae(sae: Sae, residuals: Mat, mode: EncodeMode, opts: EncodeOptions = {}): Promise<Mat> {
  checkWidth(sae, residuals);
  const session = await cachedSession(`sae:${saeContentKey(sae)}:${mode}`, () => saeEncoderGraph(sae, mode));
  const F = sae.numFeatures;
  const out = mat(residuals.rows, F);
  const batch = Math.max(1, opts.batchTokens ?? 512);
  for (let start = 0; start < residuals.rows; start += batch) {
    const end = Math.min(residuals.rows, start + batch);
    const x = rowsOf(residuals, start, end);
    // ONNX Runtime writes straight into the output rows (pre-allocated fetch): no extra copy.
    const dst = new ort.Tensor('float32', out.data.subarray(start * F, end * F), [x.rows, F]);
    await session.run({ X: new ort.Tensor('float32', x.data, [x.rows, x.cols]) }, { A: dst });
  }
  return out;
}

/** The graph variant a block computation needs for this SAE and mode. */
export function blockKindFor(sae: Sae, mode: EncodeMode): BlockKind {
  if (mode === 'pre' || sae.activation.kind === 'relu') return 'pre';
  return sae.activation.kind === 'jumprelu' ? 'jumprelu' : 'threshold';
}

/** Feeds for a block graph: the residuals and the weight slice [featStart, featEnd). */
export function blockFeeds(sae: Sae, residuals: Mat, featStart: number, featEnd: number): Record<string, ort.Tensor> {
  const d = sae.dIn;
  const n = featEnd - featStart;
  const feeds: Record<string, ort.Tensor> = {
    X: new ort.Tensor('float32', residuals.data, [residuals.rows, d]),
    W: new ort.Tensor('float32', sae.wEnc.subarray(featStart * d, featEnd * d), [n, d]),
    b: new ort.Tensor('float32', sae.bEnc.subarray(featStart, featEnd), [n]),
  };
  if (sae.subtractDecoderBias) feeds.b_dec = new ort.Tensor('float32', sae.bDec, [d]);
  return feeds;
}

/** Default feature-block width: keeps the transient T × Fb buffer near 16M floats (64 MB). */
export function defaultBlockFeatures(sae: Sae, tokens: number): number {
  return Math.max(1, Math.min(sae.numFeatures, Math.floor(16_777_216 / Math.max(1, tokens))));
}

/**
 * Per-token k-th largest pre-activation over ALL features of a TopK SAE (a [T] vector). TopK over
 * a feature block is not TopK over all features, so block-wise `post` encoding first runs this
 * pass (a running top-k merged block by block, memory T × (k + Fb)) and then keeps, in each
 * block, the activations ≥ the token's threshold. Where several features tie exactly at the
 * threshold the block-wise result keeps all of them (the whole-SAE encoder keeps exactly k).
 */
export async function topkThresholds(sae: Sae, residuals: Mat, blockFeatures?: number): Promise<Float32Array> {
  if (sae.activation.kind !== 'topk') throw new Error('topkThresholds: SAE is not a TopK SAE');
  checkWidth(sae, residuals);
  const k = sae.activation.k;
  const T = residuals.rows;
  const session = await cachedSession(`sae-topk-merge:${k}:${sae.subtractDecoderBias}`, () => topkMergeGraph(k, sae.subtractDecoderBias), WITH_ARENA);
  const step = blockFeatures ?? defaultBlockFeatures(sae, T);
  let running: Float32Array = new Float32Array(T * k);
  for (let fs = 0; fs < sae.numFeatures; fs += step) {
    const fe = Math.min(sae.numFeatures, fs + step);
    const r = await session.run({ ...blockFeeds(sae, residuals, fs, fe), R: new ort.Tensor('float32', running, [T, k]) });
    running = r.R_out!.data as Float32Array;
  }
  return kthOfRunningTopk(running, T, k);
}

/** Each token's k-th largest of a running top-k R [T, k] (sorted descending): its threshold. */
export function kthOfRunningTopk(running: Float32Array, T: number, k: number): Float32Array {
  const thr = new Float32Array(T);
  for (let t = 0; t < T; t++) thr[t] = running[t * k + k - 1]!;
  return thr;
}

/** Extra feeds for the sparsifying step of a block (theta slice or per-token thresholds). */
export function sparsityFeeds(sae: Sae, kind: BlockKind, featStart: number, featEnd: number, T: number, thresholds?: Float32Array): Record<string, ort.Tensor> {
  if (kind === 'jumprelu' && sae.activation.kind === 'jumprelu') {
    return { theta: new ort.Tensor('float32', sae.activation.threshold.subarray(featStart, featEnd), [featEnd - featStart]) };
  }
  if (kind === 'threshold') {
    if (!thresholds || thresholds.length !== T) throw new Error('block-wise TopK needs per-token thresholds from topkThresholds()');
    return { thr: new ort.Tensor('float32', thresholds, [T, 1]) };
  }
  return {};
}

/**
 * Activations [T, featEnd − featStart] of features [featStart, featEnd) only. For `post` mode of
 * a TopK SAE pass `thresholds` from topkThresholds(sae, residuals) — computed once per token
 * chunk and reused for every block; when omitted they are computed here (a full pass over all
 * features, wasteful if called per block).
 */
export async function encodeFeatureBlock(
  sae: Sae,
  residuals: Mat,
  featStart: number,
  featEnd: number,
  mode: EncodeMode,
  thresholds?: Float32Array,
  into?: Float32Array,
): Promise<Mat> {
  const { kind, feeds } = await blockRun(sae, residuals, featStart, featEnd, mode, thresholds);
  const session = await cachedSession(`sae-block:${kind}:${sae.subtractDecoderBias}`, () => blockEncoderGraph(kind, sae.subtractDecoderBias));
  const dims = [residuals.rows, featEnd - featStart];
  const r = into ? await session.run(feeds, { A: new ort.Tensor('float32', into.subarray(0, dims[0]! * dims[1]!), dims) }) : await session.run(feeds);
  return mat(residuals.rows, featEnd - featStart, r.A!.data as Float32Array);
}

/**
 * acc + aᵀ·(encodeFeatureBlock(…) − shift), written into `out` (a buffer other than `acc`), in
 * one ONNX call: the block is never materialised (a pairing's B side, recomputed once per row).
 */
export async function accumulateFeatureBlock(
  sae: Sae,
  residuals: Mat,
  featStart: number,
  featEnd: number,
  mode: EncodeMode,
  thresholds: Float32Array | undefined,
  { shift, a, acc, out }: ShiftedAccumulation,
): Promise<Float32Array> {
  checkAccumulation('accumulateFeatureBlock', a.rows, residuals.rows, acc, out);
  const { kind, feeds } = await blockRun(sae, residuals, featStart, featEnd, mode, thresholds);
  const n = featEnd - featStart;
  const session = await cachedSession(`sae-block-accumulate:${kind}:${sae.subtractDecoderBias}`, () => blockAccumulateGraph(kind, sae.subtractDecoderBias));
  await session.run(
    { ...feeds, shift: new ort.Tensor('float32', shift, [1, n]), A: new ort.Tensor('float32', a.data, [a.rows, a.cols]), acc: new ort.Tensor('float32', acc, [a.cols, n]) },
    { accOut: new ort.Tensor('float32', out, [a.cols, n]) },
  );
  return out;
}

/** The checked feeds of a block graph, with the sparsifying step's (thresholds computed if omitted). */
async function blockRun(sae: Sae, residuals: Mat, featStart: number, featEnd: number, mode: EncodeMode, thresholds?: Float32Array): Promise<{ kind: BlockKind; feeds: Record<string, ort.Tensor> }> {
  checkWidth(sae, residuals);
  if (!(featStart >= 0 && featStart < featEnd && featEnd <= sae.numFeatures)) {
    throw new Error(`SAE block: bad feature range [${featStart}, ${featEnd}) of ${sae.numFeatures}`);
  }
  const kind = blockKindFor(sae, mode);
  const thr = kind === 'threshold' ? (thresholds ?? (await topkThresholds(sae, residuals))) : undefined;
  return { kind, feeds: { ...blockFeeds(sae, residuals, featStart, featEnd), ...sparsityFeeds(sae, kind, featStart, featEnd, residuals.rows, thr) } };
}
