// A Hugging Face tokenizer.json loaded with @huggingface/tokenizers (pure JS), encoding as
// `transformers` does by default: the post-processor's special tokens around the content
// (`add_special_tokens=True`: Llama `<s>`, Gemma `<bos>`, Llama-3 `<|begin_of_text|>`; GPT-2 and
// GPT-NeoX nothing), and truncation as `tokenizer(text, truncation=True, max_length=L)`: the
// content is cut so that content + added specials fit L. Checked token for token against HF's
// ids for GPT-2 (the real vocabulary), GPT-NeoX, Llama, Llama-3 and Gemma layouts
// (test/fixtures/real/, make_tokenizer_goldens.py) and for the generated fixture tokenizer
// (test/fixtures/golden/, make_golden_tokens.py).
import { readFile } from 'node:fs/promises';
import { Tokenizer } from '@huggingface/tokenizers';
import { sha256Bytes } from '../../storage/atomic.ts';
import { UserInputError } from '../errors.ts';
import { forJsEncoding, forTokenStrings } from './jsCompat.ts';
import { singleSequenceTemplate, type SpecialTemplate } from './postProcessor.ts';

export interface TokenizerOptions {
  /** Add the post-processor's special tokens (Hugging Face's `add_special_tokens`); default true. */
  addSpecialTokens?: boolean;
}

export interface EncodeOptions {
  /** Truncate to at most this many ids, special tokens included (as HF's truncation=True). */
  maxLength?: number;
}

export interface LoadedTokenizer {
  readonly path: string;
  /** sha256 of the tokenizer.json bytes (lineage, and to recognise identical tokenizers). */
  readonly sha256: string;
  readonly vocabSize: number;
  /** Id used for padding positions (pad token, else end-of-text/EOS, else 0); never attended to. */
  readonly padId: number;
  /** Whether encode adds the post-processor's special tokens. */
  readonly addSpecialTokens: boolean;
  /** How many special tokens encode adds around every document (0 without). */
  readonly numAddedTokens: number;
  /**
   * Ids of special tokens: added tokens marked special, those the post-processor adds, and the
   * model's unknown token. Positions holding one take no part in pairing by default.
   */
  readonly specialIds: ReadonlySet<number>;
  /** Token ids of `text`, with the special tokens `addSpecialTokens` asks for, truncated to maxLength. */
  encode(text: string, opts?: EncodeOptions): number[];
  /** How one token reads inside a text (labels: what a position "reads" as). */
  tokenString(id: number): string;
}

interface TokenizerJson {
  model?: { type?: string; unk_token?: unknown; vocab?: Record<string, number> | unknown };
  added_tokens?: Array<{ id: number; content: string; special?: boolean }>;
  post_processor?: unknown;
  [key: string]: unknown;
}

function construct(json: TokenizerJson, path: string): Tokenizer {
  try {
    return new Tokenizer(json, {});
  } catch (e) {
    throw new UserInputError(`unsupported tokenizer (${(e as Error).message})`, path);
  }
}

export async function loadTokenizer(path: string, opts: TokenizerOptions = {}): Promise<LoadedTokenizer> {
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
  const tok = construct(forJsEncoding(json, path), path);
  const stringsJson = forTokenStrings(json);
  // A second tokenizer only where token strings need another decoder (SentencePiece layouts).
  let strings: Tokenizer | undefined = stringsJson === json ? tok : undefined;
  const vocab = tok.get_vocab(true);
  let vocabSize = 0;
  for (const id of vocab.values()) vocabSize = Math.max(vocabSize, id + 1);

  const addSpecialTokens = opts.addSpecialTokens ?? true;
  const postProcessor = singleSequenceTemplate(json.post_processor, path);
  const templateIds = [...postProcessor.prefix, ...postProcessor.suffix];
  for (const id of templateIds) {
    if (!(id >= 0 && id < vocabSize)) throw new UserInputError(`post_processor adds token id ${id}, outside the vocabulary of ${vocabSize}`, path);
  }
  const template: SpecialTemplate = addSpecialTokens ? postProcessor : { prefix: [], suffix: [] };
  const numAddedTokens = template.prefix.length + template.suffix.length;

  const added = json.added_tokens ?? [];
  const specialIds = new Set<number>([...added.filter((t) => t.special).map((t) => t.id), ...templateIds]);
  const unk = typeof json.model.unk_token === 'string' ? vocab.get(json.model.unk_token) : undefined;
  if (unk !== undefined) specialIds.add(unk);

  const byName = (re: RegExp) => added.find((t) => re.test(t.content))?.id;
  const padId = byName(/^(<\|?pad(ding)?\|?>|\[PAD\])$/i) ?? byName(/^(<\|endoftext\|>|<\|end_of_text\|>|<\/s>|<eos>)$/) ?? 0;
  const stringCache = new Map<number, string>();
  return {
    path,
    sha256: sha256Bytes(text),
    vocabSize,
    padId,
    addSpecialTokens,
    numAddedTokens,
    specialIds,
    encode(t, o = {}) {
      let content = tok.encode(t, { add_special_tokens: false }).ids;
      if (o.maxLength !== undefined) {
        if (!(Number.isInteger(o.maxLength) && o.maxLength >= numAddedTokens)) {
          throw new UserInputError(`max length ${o.maxLength} leaves no room for text: the tokenizer adds ${numAddedTokens} special token${numAddedTokens === 1 ? '' : 's'} to every document`, path);
        }
        content = content.slice(0, o.maxLength - numAddedTokens);
      }
      return numAddedTokens === 0 ? content : [...template.prefix, ...content, ...template.suffix];
    },
    tokenString(id) {
      const cached = stringCache.get(id);
      if (cached !== undefined) return cached;
      strings ??= construct(stringsJson, path);
      const s: string = strings.decode([id], { skip_special_tokens: false, clean_up_tokenization_spaces: false });
      stringCache.set(id, s);
      return s;
    },
  };
}

/** The decoded string of the token at every position (feature labels: top-activating tokens). */
export function tokenStrings(tok: LoadedTokenizer, ids: ArrayLike<number>): string[] {
  return Array.from(ids, (id) => tok.tokenString(id));
}
