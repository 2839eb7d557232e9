// The special tokens a tokenizer.json's post-processor puts around one sequence, as the Rust
// `tokenizers` library applies them (Hugging Face's `add_special_tokens=True`): Llama's `<s>`,
// Gemma's `<bos>`, Llama-3's `<|begin_of_text|>`, BERT's [CLS] … [SEP]; GPT-2 and GPT-NeoX add
// nothing. Read from the JSON rather than left to the JS library, so truncation can be applied
// the way Rust does it: the content is cut to `maxLength − added`, then the specials go around it.
import { UserInputError } from '../errors.ts';

export interface SpecialTemplate {
  /** Ids placed before the content (e.g. BOS). */
  prefix: number[];
  /** Ids placed after it (e.g. EOS when a template appends one). */
  suffix: number[];
}

type Json = Record<string, unknown>;

const NONE: SpecialTemplate = { prefix: [], suffix: [] };

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `[token, id]` of BertProcessing / RobertaProcessing. */
function pairId(v: unknown, what: string, path: string): number {
  if (!Array.isArray(v) || typeof v[1] !== 'number') throw new UserInputError(`post_processor.${what} is not [token, id]`, path);
  return v[1];
}

function templateOf(pp: Json, path: string): SpecialTemplate {
  const single = pp.single;
  if (!Array.isArray(single)) throw new UserInputError('post_processor TemplateProcessing has no "single" template', path);
  const specials = isObject(pp.special_tokens) ? pp.special_tokens : {};
  const out: SpecialTemplate = { prefix: [], suffix: [] };
  let seenSequence = false;
  for (const item of single as unknown[]) {
    if (isObject(item) && isObject(item.Sequence)) {
      if (item.Sequence.id !== 'A') throw new UserInputError(`post_processor single template refers to sequence ${JSON.stringify(item.Sequence.id)}`, path);
      seenSequence = true;
    } else if (isObject(item) && isObject(item.SpecialToken)) {
      const name = item.SpecialToken.id;
      const entry = typeof name === 'string' ? specials[name] : undefined;
      if (!isObject(entry) || !Array.isArray(entry.ids) || !entry.ids.every((i) => typeof i === 'number')) {
        throw new UserInputError(`post_processor template uses special token ${JSON.stringify(name)}, which its special_tokens do not define`, path);
      }
      (seenSequence ? out.suffix : out.prefix).push(...(entry.ids as number[]));
    } else {
      throw new UserInputError(`post_processor template item ${JSON.stringify(item)} is neither a SpecialToken nor a Sequence`, path);
    }
  }
  if (!seenSequence) throw new UserInputError('post_processor single template has no $A sequence', path);
  return out;
}

/**
 * The specials of a one-sequence encoding. A Sequence of processors applies them in order, each
 * wrapping what the previous produced.
 */
export function singleSequenceTemplate(postProcessor: unknown, path: string): SpecialTemplate {
  if (postProcessor === null || postProcessor === undefined) return NONE;
  if (!isObject(postProcessor)) throw new UserInputError('post_processor is not an object', path);
  switch (postProcessor.type) {
    case 'ByteLevel': // only adjusts offsets
      return NONE;
    case 'TemplateProcessing':
      return templateOf(postProcessor, path);
    case 'BertProcessing':
    case 'RobertaProcessing':
      return { prefix: [pairId(postProcessor.cls, 'cls', path)], suffix: [pairId(postProcessor.sep, 'sep', path)] };
    case 'Sequence': {
      const processors = postProcessor.processors;
      if (!Array.isArray(processors)) throw new UserInputError('post_processor Sequence has no "processors" list', path);
      const out: SpecialTemplate = { prefix: [], suffix: [] };
      for (const p of processors) {
        const t = singleSequenceTemplate(p, path);
        out.prefix = [...t.prefix, ...out.prefix];
        out.suffix = [...out.suffix, ...t.suffix];
      }
      return out;
    }
    default:
      throw new UserInputError(`unsupported post_processor type ${JSON.stringify(postProcessor.type)}`, path);
  }
}
