// Feature labels: the decoded tokens at the positions where a feature activates most, and the
// whole word around a token (subspace categories match whole words such as "January", not " Jan"
// + "uary"). The one definition of "a feature's label" that the keyword filter, the semantic
// subspaces and the feature maps all use.
import type { TopActivations } from './streamingCorrelation.ts';

/** Tokens per label: a feature's top-5 activating tokens (the paper). */
export const LABEL_TOKENS = 5;
export const DEFAULT_MIN_ACTIVATIONS = 5;
export const MAX_MIN_ACTIVATIONS = 100;

/**
 * `described`: a label is made of the positions where the feature fires (activation > 0), highest
 * first, at most LABEL_TOKENS; a feature firing at fewer than `minActivations` positions has no
 * label (its "top tokens" would otherwise be arbitrary positions where it is 0). `reference`
 * (the original code): the LABEL_TOKENS highest activations over all positions, zeros included,
 * ties by position, for every feature.
 */
export interface LabelRule {
  mode: 'described' | 'reference';
  minActivations: number;
}

export function labelRule(mode: LabelRule['mode'], minActivations = DEFAULT_MIN_ACTIVATIONS): LabelRule {
  if (!(Number.isInteger(minActivations) && minActivations >= 1 && minActivations <= MAX_MIN_ACTIVATIONS)) {
    throw new Error(`minActivations must be an integer in 1..${MAX_MIN_ACTIVATIONS}, got ${minActivations}`);
  }
  return { mode, minActivations };
}

/**
 * How many top activations per feature a pass must track for `rule`: enough to tell whether
 * minActivations positions fire (the k-th highest activation is > 0 exactly when ≥ k positions do).
 */
export function topKForLabels(rule: LabelRule): number {
  return rule.mode === 'reference' ? LABEL_TOKENS : Math.max(LABEL_TOKENS, rule.minActivations);
}

/**
 * Per feature, the positions its label is made of (highest activation first), or null when it has
 * no label. `top` must hold topKForLabels(rule) activations per feature (fewer only when there are
 * fewer tokens).
 */
export function labelPositions(top: TopActivations, rule: LabelRule): (number[] | null)[] {
  const k = top.k;
  const n = k === 0 ? 0 : top.positions.length / k;
  const out: (number[] | null)[] = [];
  for (let f = 0; f < n; f++) {
    if (rule.mode === 'reference') {
      out.push(Array.from(top.positions.subarray(f * k, f * k + Math.min(k, LABEL_TOKENS))));
      continue;
    }
    let firing = 0;
    while (firing < k && top.values[f * k + firing]! > 0) firing++;
    out.push(firing < rule.minActivations ? null : Array.from(top.positions.subarray(f * k, f * k + Math.min(firing, LABEL_TOKENS))));
  }
  return out;
}

function tokenAt(tokens: readonly string[], p: number, f: number): string {
  if (!(p >= 0 && p < tokens.length)) throw new Error(`top position ${p} of feature ${f} outside the ${tokens.length} tokens`);
  return tokens[p]!;
}

/** Per feature, the decoded tokens of its label (highest activation first), or null: no label. */
export function topTokenLabels(top: TopActivations, tokens: readonly string[], rule: LabelRule): (string[] | null)[] {
  return labelPositions(top, rule).map((ps, f) => ps && ps.map((p) => tokenAt(tokens, p, f)));
}

/** Per feature, the whole words around its label's tokens, or null: no label. `follows`: see wholeWordAt. */
export function topWordLabels(top: TopActivations, tokens: readonly string[], rule: LabelRule, follows?: ArrayLike<number>): (string[] | null)[] {
  return labelPositions(top, rule).map((ps) => ps && ps.map((p) => wholeWordAt(tokens, p, follows)));
}

/**
 * follows[t] = 1 when row t + 1 is the next position of row t's document. Rows of a token table
 * are consecutive only within a document and where no special token (BOS, a typed
 * <|endoftext|> …) was left out between them.
 */
export function rowsFollow(docIds: ArrayLike<number>, positions: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(docIds.length);
  for (let t = 0; t + 1 < docIds.length; t++) out[t] = docIds[t + 1] === docIds[t] && positions[t + 1] === positions[t]! + 1 ? 1 : 0;
  return out;
}

/** Features without a label. */
export function countUnlabelled(labels: readonly (readonly string[] | null)[]): number {
  return labels.reduce((n, l) => n + (l === null ? 1 : 0), 0);
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
 * With `follows` (rowsFollow), a word never reaches across a document or a left-out position.
 */
export function wholeWordAt(tokens: readonly string[], position: number, follows?: ArrayLike<number>): string {
  if (!Number.isInteger(position) || position < 0 || position >= tokens.length) {
    throw new Error(`position ${position} outside the ${tokens.length} tokens`);
  }
  const joined = (t: number) => follows === undefined || follows[t] === 1;
  let start = position, end = position;
  while (start > 0 && joined(start - 1) && startsWord(tokens[start]!) && endsWord(tokens[start - 1]!)) start--;
  while (end + 1 < tokens.length && joined(end) && startsWord(tokens[end + 1]!) && endsWord(tokens[end]!)) end++;
  return stripMarkers(tokens.slice(start, end + 1).join(''));
}
