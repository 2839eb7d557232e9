// Tokenised documents → fixed batches of max-length windows. Each document gives ONE window, as
// Hugging Face's `tokenizer(text, truncation=True, max_length=L)` makes it (the original
// truncates every sample the same way): the special tokens the tokenizer adds (BOS …) and the
// first content tokens that fit. Batches are consecutive runs of `batchSize` documents,
// right-padded to the longest window in the batch, so batch boundaries depend only on (docs,
// batchSize, maxLength): that determinism is what lets an interrupted extraction resume at a
// batch boundary and reproduce the same numbers. The model sees every real position; which of
// them become activation rows (`written`: not padding, and not a special token unless those are
// kept) is fixed here too.
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
  /** rows × seqLen; 1 = a position written as an activation row (real, and not an excluded special token). */
  written: Uint8Array;
  /** Positions written. */
  numTokens: number;
  /** Real positions not written because they hold an excluded special token (BOS, EOS, …). */
  numSpecial: number;
}

export function tokenizeDocs(tok: LoadedTokenizer, docs: readonly string[], maxLength: number): TokenizedDoc[] {
  if (!(maxLength > 0)) throw new Error(`maxLength must be positive, got ${maxLength}`);
  const out: TokenizedDoc[] = [];
  docs.forEach((text, docId) => {
    const ids = tok.encode(text, { maxLength });
    // Documents without content (nothing but the added special tokens) are left out: they would
    // give no row, only all-padding or all-special batch rows.
    if (ids.length > tok.numAddedTokens) out.push({ docId, ids: Int32Array.from(ids) });
  });
  return out;
}

/** `excluded`: token ids whose positions are not written (the tokenizer's special ids; empty = keep all). */
export function makeBatches(docs: readonly TokenizedDoc[], batchSize: number, padId: number, excluded: ReadonlySet<number> = new Set()): Batch[] {
  if (!(batchSize > 0)) throw new Error(`batchSize must be positive, got ${batchSize}`);
  const batches: Batch[] = [];
  for (let start = 0; start < docs.length; start += batchSize) {
    const group = docs.slice(start, start + batchSize);
    const seqLen = Math.max(...group.map((d) => d.ids.length));
    const inputIds = new BigInt64Array(group.length * seqLen).fill(BigInt(padId));
    const attentionMask = new BigInt64Array(group.length * seqLen);
    const written = new Uint8Array(group.length * seqLen);
    let numTokens = 0;
    let numSpecial = 0;
    group.forEach((d, r) => {
      for (let p = 0; p < d.ids.length; p++) {
        const id = d.ids[p]!;
        inputIds[r * seqLen + p] = BigInt(id);
        attentionMask[r * seqLen + p] = 1n;
        if (excluded.has(id)) numSpecial++;
        else {
          written[r * seqLen + p] = 1;
          numTokens++;
        }
      }
    });
    batches.push({
      index: batches.length,
      rows: group.length,
      seqLen,
      inputIds,
      attentionMask,
      docIds: Int32Array.from(group.map((d) => d.docId)),
      lengths: Int32Array.from(group.map((d) => d.ids.length)),
      written,
      numTokens,
      numSpecial,
    });
  }
  return batches;
}
