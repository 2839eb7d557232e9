// The paper compares models that share a tokenizer: both models must see the same token at
// every position, or "the same token's activation" means nothing. Refuse a pair that disagrees.
import { UserInputError } from '../errors.ts';
import type { LoadedTokenizer } from './loadTokenizer.ts';

/** Throws UserInputError naming both tokenizer files and the first differing document/position. */
export function assertSameTokenization(a: LoadedTokenizer, b: LoadedTokenizer, docs: readonly string[]): void {
  if (a.sha256 === b.sha256) return; // byte-identical tokenizer.json files tokenise identically
  for (let d = 0; d < docs.length; d++) {
    const x = a.encode(docs[d]!);
    const y = b.encode(docs[d]!);
    const n = Math.min(x.length, y.length);
    let p = 0;
    while (p < n && x[p] === y[p]) p++;
    if (p < n || x.length !== y.length) {
      const what =
        p < n
          ? `token ${x[p]} ${JSON.stringify(a.tokenString(x[p]!))} vs ${y[p]} ${JSON.stringify(b.tokenString(y[p]!))}`
          : `lengths ${x.length} vs ${y.length} tokens`;
      throw new UserInputError(
        `tokenizers disagree on the corpus: ${a.path} and ${b.path} differ at document ${d}, position ${p} (${what}); ` +
          'the two models of a pair must share a tokenizer',
      );
    }
  }
}
