// ufg encodes with @huggingface/tokenizers (pure JS); Hugging Face runs the Rust `tokenizers`.
// Where the JS library executes a tokenizer.json feature differently from Rust, the JSON is
// rewritten here into an equivalent form that it does execute as Rust does; a feature it would
// get silently wrong and that has no such rewrite is refused with a clear error. Each rewrite is
// checked token for token against Hugging Face's ids (test/fixtures/real/, tokenizer goldens):
// - ByteLevel's built-in GPT-2 split regex uses JS `\s`, which counts U+FEFF as whitespace and
//   not U+0085 (Rust: Unicode White_Space). The same regex as a Split pre-tokenizer goes through
//   the library's Oniguruma translation, which gets `\s` right.
// - Split behaviours MergedWithPrevious / MergedWithNext (Gemma: on " ") run as Isolated in JS;
//   for a one-character delimiter d they equal Isolated splits on `[^d]*d` / `d[^d]*`.
// - Metaspace ignores `split` (Rust default: true, i.e. MergedWithNext on ▁) and ignores
//   `add_prefix_space` when `prepend_scheme` is absent.
// And for token strings (labels): the decoder steps that only undo the sequence's leading ▁
// (Strip, Metaspace's first-token rule) are dropped, so a token reads as it does inside a text.
import { UserInputError } from '../errors.ts';

type Json = Record<string, unknown>;

/** Rust tokenizers' ByteLevel split (pre_tokenizers/byte_level.rs). */
const GPT2_SPLIT_REGEX = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function escapeRegexChar(c: string): string {
  return /[\\^$.*+?()[\]{}|\-/]/.test(c) ? `\\${c}` : c;
}

function isolatedSplit(regex: string): Json {
  return { type: 'Split', pattern: { Regex: regex }, behavior: 'Isolated', invert: false };
}

function rewritePreTokenizer(pt: unknown, path: string, position: { first: boolean }): unknown {
  if (!isObject(pt)) return pt;
  const first = position.first;
  position.first = false;
  switch (pt.type) {
    case 'Sequence': {
      if (!Array.isArray(pt.pretokenizers)) return pt;
      const inner = { first };
      return { ...pt, pretokenizers: pt.pretokenizers.map((p) => rewritePreTokenizer(p, path, inner)) };
    }
    case 'ByteLevel':
      // With add_prefix_space the prefix must go on before the split, inside ByteLevel: left to
      // the library (its regex differs from Rust's only on U+FEFF and U+0085).
      if (pt.use_regex === false || pt.add_prefix_space === true) return pt;
      return { type: 'Sequence', pretokenizers: [isolatedSplit(GPT2_SPLIT_REGEX), { ...pt, use_regex: false }] };
    case 'Split': {
      const behavior = String(pt.behavior ?? 'Isolated').toLowerCase();
      const invert = pt.invert === true;
      if (!invert && (behavior === 'isolated' || behavior === 'removed')) return pt;
      if (invert && behavior === 'removed') return pt; // the JS library keeps the matches: the same
      const d = isObject(pt.pattern) && typeof pt.pattern.String === 'string' ? pt.pattern.String : undefined;
      if (!invert && d !== undefined && [...d].length === 1) {
        const c = escapeRegexChar(d);
        if (behavior === 'mergedwithprevious') return isolatedSplit(`[^${c}]*${c}`);
        if (behavior === 'mergedwithnext') return isolatedSplit(`${c}[^${c}]*`);
      }
      throw new UserInputError(`unsupported pre_tokenizer Split (behavior ${String(pt.behavior)}, invert ${invert}, pattern ${JSON.stringify(pt.pattern)})`, path);
    }
    case 'Metaspace': {
      const replacement = typeof pt.replacement === 'string' ? pt.replacement : '\u2581';
      const scheme = typeof pt.prepend_scheme === 'string' ? pt.prepend_scheme : pt.add_prefix_space === false ? 'never' : 'always';
      // The library decides "first" by section (text between added tokens), Rust by offset 0 of
      // the original text: the same only when Metaspace sees whole sections.
      if (scheme === 'first' && !first) throw new UserInputError('unsupported pre_tokenizer: Metaspace with prepend_scheme "first" after another pre-tokenizer', path);
      const metaspace = { ...pt, replacement, prepend_scheme: scheme, split: false };
      if (pt.split === false) return metaspace;
      if ([...replacement].length !== 1) throw new UserInputError(`unsupported pre_tokenizer: Metaspace replacement ${JSON.stringify(replacement)}`, path);
      const c = escapeRegexChar(replacement);
      return { type: 'Sequence', pretokenizers: [metaspace, isolatedSplit(`${c}[^${c}]*`)] };
    }
    default:
      return pt;
  }
}

/** The tokenizer.json with its pre-tokenizer in a form the JS library runs as Rust does. */
export function forJsEncoding<T extends Json>(json: T, path: string): T {
  if (!('pre_tokenizer' in json)) return json;
  return { ...json, pre_tokenizer: rewritePreTokenizer(json.pre_tokenizer, path, { first: true }) };
}

function inContextDecoder(dec: unknown): unknown {
  if (!isObject(dec)) return dec;
  if (dec.type === 'Sequence' && Array.isArray(dec.decoders)) {
    return { ...dec, decoders: dec.decoders.filter((d) => !(isObject(d) && d.type === 'Strip')).map(inContextDecoder) };
  }
  if (dec.type === 'Strip') return null;
  if (dec.type === 'Metaspace') return { type: 'Replace', pattern: { String: typeof dec.replacement === 'string' ? dec.replacement : '\u2581' }, content: ' ' };
  return dec;
}

/** The tokenizer.json with a decoder that renders one token as it reads inside a text (`json` itself when its decoder already does). */
export function forTokenStrings<T extends Json>(json: T): T {
  if (!('decoder' in json)) return json;
  const decoder = inContextDecoder(json.decoder);
  return JSON.stringify(decoder) === JSON.stringify(json.decoder) ? json : { ...json, decoder };
}
