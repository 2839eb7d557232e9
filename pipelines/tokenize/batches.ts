// Tokenised documents → fixed batches of max-length windows. Each document gives ONE window: its
// first `maxLength` tokens (the original truncates every sample to max_length the same way).
// Batches are consecutive runs of `batchSize` documents, right-padded to the longest window in
// the batch, so batch boundaries depend only on (docs, batchSize, maxLength): that determinism is
// what lets an interrupted extraction resume at a batch boundary and reproduce the same numbers.
import type { LoadedTokenizer } from './loadTokenizer.ts';

export interface TokenizedDoc {
  docId: number;
  ids: Int32Array;
}

export interface Batch {
  /** Index of this batch among all batches. */
  index: number;
  rows: number;
  seqLen: number;
  /** rows × seqLen, row-major; padding positions hold padId. */
  inputIds: BigInt64Array;
  /** rows × seqLen; 1 = real token, 0 = padding. */
  attentionMask: BigInt64Array;
  docIds: Int32Array;
  /** Real (unpadded) length of every row. */
  lengths: Int32Array;
  /** Number of real tokens in the batch. */
  numTokens: number;
}

export function tokenizeDocs(tok: LoadedTokenizer, docs: readonly string[], maxLength: number): TokenizedDoc[] {
  if (!(maxLength > 0)) throw new Error(`maxLength must be positive, got ${maxLength}`);
  const out: TokenizedDoc[] = [];
  docs.forEach((text, docId) => {
    const ids = tok.encode(text);
    // Documents that tokenise to nothing contribute no tokens; keeping them out of batches avoids
    // all-padding rows (a softmax over no keys).
    if (ids.length > 0) out.push({ docId, ids: Int32Array.from(ids.slice(0, maxLength)) });
  });
  return out;
}

export function makeBatches(docs: readonly TokenizedDoc[], batchSize: number, padId: number): Batch[] {
  if (!(batchSize > 0)) throw new Error(`batchSize must be positive, got ${batchSize}`);
  const batches: Batch[] = [];
  for (let start = 0; start < docs.length; start += batchSize) {
    const group = docs.slice(start, start + batchSize);
    const seqLen = Math.max(...group.map((d) => d.ids.length));
    const inputIds = new BigInt64Array(group.length * seqLen).fill(BigInt(padId));
    const attentionMask = new BigInt64Array(group.length * seqLen);
    let numTokens = 0;
    group.forEach((d, r) => {
      for (let p = 0; p < d.ids.length; p++) {
        inputIds[r * seqLen + p] = BigInt(d.ids[p]!);
        attentionMask[r * seqLen + p] = 1n;
      }
      numTokens += d.ids.length;
    });
    batches.push({
      index: batches.length,
      rows: group.length,
      seqLen,
      inputIds,
      attentionMask,
      docIds: Int32Array.from(group.map((d) => d.docId)),
      lengths: Int32Array.from(group.map((d) => d.ids.length)),
      numTokens,
    });
  }
  return batches;
}
