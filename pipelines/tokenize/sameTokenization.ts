// The paper compares models that share a tokenizer: both models must see the same token at
// every position that is paired, or "the same token's activation" means nothing. Compared are
// the kept tokens, as extraction writes them: each document truncated to maxLength with its
// tokenizer's special tokens, those special positions then left out (unless kept). So a model
// with BOS and one without may be paired when their text tokens agree.
import { UserInputError } from '../errors.ts';
import type { LoadedTokenizer } from './loadTokenizer.ts';

export interface SameTokenizationOptions {
  /** corpus.maxLength: ids per document, special tokens included. */
  maxLength: number;
  /** corpus.keepSpecialPositions: compare special positions too. */
  keepSpecialPositions?: boolean;
}

/** The kept tokens of one document: ids and their positions in the document as the model reads it. */
function keptTokens(tok: LoadedTokenizer, text: string, opts: SameTokenizationOptions): { ids: number[]; positions: number[] } {
  const all = tok.encode(text, { maxLength: opts.maxLength });
  const ids: number[] = [], positions: number[] = [];
  all.forEach((id, p) => {
    if (opts.keepSpecialPositions || !tok.specialIds.has(id)) {
      ids.push(id);
      positions.push(p);
    }
  });
  return { ids, positions };
}

/** Throws UserInputError naming both tokenizer files and the first differing document/position. */
export function assertSameTokenization(a: LoadedTokenizer, b: LoadedTokenizer, docs: readonly string[], opts: SameTokenizationOptions): void {
  // Byte-identical tokenizer.json files used alike tokenise identically.
  if (a.sha256 === b.sha256 && a.addSpecialTokens === b.addSpecialTokens) return;
  for (let d = 0; d < docs.length; d++) {
    const x = keptTokens(a, docs[d]!, opts);
    const y = keptTokens(b, docs[d]!, opts);
    const n = Math.min(x.ids.length, y.ids.length);
    let k = 0;
    while (k < n && x.ids[k] === y.ids[k]) k++;
    if (k === n && x.ids.length === y.ids.length) continue;
    const at = (t: typeof x, name: string) => (k < t.ids.length ? `position ${t.positions[k]} in ${name}` : `the end of ${name}'s tokens`);
    const what =
      k < n
        ? `token ${x.ids[k]} ${JSON.stringify(a.tokenString(x.ids[k]!))} vs ${y.ids[k]} ${JSON.stringify(b.tokenString(y.ids[k]!))}`
        : `${x.ids.length} vs ${y.ids.length} kept tokens` +
          (a.numAddedTokens !== b.numAddedTokens ? `; the tokenizers add ${a.numAddedTokens} and ${b.numAddedTokens} special tokens, so maxLength ${opts.maxLength} leaves them different room` : '');
    throw new UserInputError(
      `tokenizers disagree on the corpus: ${a.path} and ${b.path} differ at document ${d}, ${at(x, 'A')} / ${at(y, 'B')} (${what}); ` +
        'the two models of a pair must share a tokenizer',
    );
  }
}

/** One side's extracted rows: token id, document and position of every kept position. */
export interface KeptTokenTable {
  tokenIds: Int32Array;
  docIds: Int32Array;
  positions: Int32Array;
}

export interface TokenTableSide {
  /** Model name, for the message. */
  model: string;
  tokenizer: LoadedTokenizer;
  table: KeptTokenTable;
}

/**
 * The rows two extractions are paired on must hold the same token of the same document, row by
 * row (positions may differ: one model may read a BOS the other does not). Throws UserInputError
 * naming both tokenizer files, the document and the positions of the first difference.
 */
export function assertSameTokenTables(a: TokenTableSide, b: TokenTableSide, file?: string): void {
  const ta = a.table, tb = b.table;
  const n = Math.min(ta.tokenIds.length, tb.tokenIds.length);
  let t = 0;
  while (t < n && ta.tokenIds[t] === tb.tokenIds[t] && ta.docIds[t] === tb.docIds[t]) t++;
  if (t === n && ta.tokenIds.length === tb.tokenIds.length) return;
  const where = (s: TokenTableSide) => (t < s.table.docIds.length ? `document ${s.table.docIds[t]}, position ${s.table.positions[t]}` : 'past its last row');
  const token = (s: TokenTableSide) => (t < s.table.tokenIds.length ? ` token ${s.table.tokenIds[t]} ${JSON.stringify(s.tokenizer.tokenString(s.table.tokenIds[t]!))}` : '');
  throw new UserInputError(
    `the two extractions hold different kept tokens (${ta.tokenIds.length} vs ${tb.tokenIds.length} rows): row ${t} is ${where(a)}${token(a)} for ${a.model} (${a.tokenizer.path}) ` +
      `but ${where(b)}${token(b)} for ${b.model} (${b.tokenizer.path}); both models must read the same tokenized corpus`,
    file,
  );
}
