// Feature labels: the decoded tokens at a feature's top activating positions, and the whole word
// around a token (subspace categories match whole words such as "January", not " Jan" + "uary").
import type { TopActivations } from './streamingCorrelation.ts';

/** Per feature, the decoded tokens at its top-k positions (highest activation first). */
export function topTokenLabels(top: TopActivations, tokens: readonly string[]): string[][] {
  const n = top.positions.length / top.k;
  const out: string[][] = [];
  for (let f = 0; f < n; f++) {
    const labels: string[] = [];
    for (let r = 0; r < top.k; r++) {
      const p = top.positions[f * top.k + r]!;
      if (p < 0 || p >= tokens.length) throw new Error(`top position ${p} of feature ${f} outside the ${tokens.length} tokens`);
      labels.push(tokens[p]!);
    }
    out.push(labels);
  }
  return out;
}

// Space markers of byte-level BPE (Ġ) and SentencePiece (▁) count as spaces when undecoded.
const WORD_CHAR = /[\p{L}\p{N}_']/u;

function startsWord(token: string): boolean {
  return token.length > 0 && token[0] !== 'Ġ' && WORD_CHAR.test(token[0]!);
}

function endsWord(token: string): boolean {
  return token.length > 0 && WORD_CHAR.test(token[token.length - 1]!);
}

function stripMarkers(s: string): string {
  return s.replace(/^[\sĠ▁]+|[\sĠ▁]+$/gu, '');
}

/**
 * The whole word containing the token at `position`: the token joined with the neighbours that
 * continue it (a following token that starts with a letter or digit rather than a space or
 * punctuation, and a preceding one the token itself continues), stripped of surrounding space.
 */
export function wholeWordAt(tokens: readonly string[], position: number): string {
  if (!Number.isInteger(position) || position < 0 || position >= tokens.length) {
    throw new Error(`position ${position} outside the ${tokens.length} tokens`);
  }
  let start = position, end = position;
  while (start > 0 && startsWord(tokens[start]!) && endsWord(tokens[start - 1]!)) start--;
  while (end + 1 < tokens.length && startsWord(tokens[end + 1]!) && endsWord(tokens[end]!)) end++;
  return stripMarkers(tokens.slice(start, end + 1).join(''));
}

/** Per feature, the whole words around its top-k activating tokens. */
export function topWordLabels(top: TopActivations, tokens: readonly string[]): string[][] {
  const n = top.positions.length / top.k;
  const out: string[][] = [];
  for (let f = 0; f < n; f++) {
    const words: string[] = [];
    for (let r = 0; r < top.k; r++) words.push(wholeWordAt(tokens, top.positions[f * top.k + r]!));
    out.push(words);
  }
  return out;
}
