// A Hugging Face tokenizer.json (byte-level BPE as GPT-2 and GPT-NeoX/Pythia use) loaded with
// @huggingface/tokenizers (pure JS). Agreement with the Rust `tokenizers` package is checked
// token for token against a golden file (test/fixtures/golden/, made by make_golden_tokens.py).
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { sha256Bytes } from '../../storage/atomic.ts';
import { UserInputError } from '../errors.ts';

export interface LoadedTokenizer {
  readonly path: string;
  /** sha256 of the tokenizer.json bytes (lineage, and to recognise identical tokenizers). */
  readonly sha256: string;
  readonly vocabSize: number;
  /** Id used for padding positions (pad token, else end-of-text, else 0); never attended to. */
  readonly padId: number;
  /** Token ids of `text`, without special tokens added around it. */
  encode(text: string): number[];
  /** The decoded text of every single token (labels: what a position "reads" as). */
  tokenString(id: number): string;
}

interface TokenizerJson {
  model?: { type?: string; vocab?: Record<string, number> | unknown };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
}

export async function loadTokenizer(path: string): Promise<LoadedTokenizer> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new UserInputError(`cannot read tokenizer (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  let json: TokenizerJson;
  try {
    json = JSON.parse(text) as TokenizerJson;
  } catch (e) {
    throw new UserInputError(`tokenizer is not valid JSON (${(e as Error).message})`, path);
  }
  if (!json || typeof json !== 'object' || !json.model || typeof json.model !== 'object') {
    throw new UserInputError('not a Hugging Face tokenizer.json (no "model" section)', path);
  }
  let tok: Tokenizer;
  try {
    tok = new Tokenizer(json, {});
  } catch (e) {
    throw new UserInputError(`unsupported tokenizer (${(e as Error).message})`, path);
  }
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);
  const added = json.added_tokens ?? [];
  const byName = (re: RegExp) => added.find((t) => re.test(t.content))?.id;
  const padId = byName(/^(<\|?pad\|?>|\[PAD\]|<pad>)$/i) ?? byName(/^<\|endoftext\|>$/) ?? byName(/^<\/s>$/) ?? 0;
  const stringCache = new Map<number, string>();
  return {
    path,
    sha256: sha256Bytes(text),
    vocabSize,
    padId,
    encode: (t) => tok.encode(t, { add_special_tokens: false }).ids,
    tokenString(id) {
      const cached = stringCache.get(id);
      if (cached !== undefined) return cached;
      const s: string = tok.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      stringCache.set(id, s);
      return s;
    },
  };
}

/** The decoded string of the token at every position (feature labels: top-activating tokens). */
export function tokenStrings(tok: LoadedTokenizer, ids: ArrayLike<number>): string[] {
  return Array.from(ids, (id) => tok.tokenString(id));
}
