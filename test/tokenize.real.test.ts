// The tokenizer against Hugging Face's own ids on the real-family tokenizers of
// test/fixtures/real/tokenizers (make_tokenizer_goldens.py: GPT-2's real vocabulary, GPT-NeoX,
// Llama in three layouts, Llama-3, Gemma): with and without special tokens, truncated as
// `tokenizer(text, truncation=True, max_length=L)`, token strings as they read inside a text,
// and the special-token ids.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';

const ROOT = fileURLToPath(new URL('./fixtures/real/tokenizers/', import.meta.url));

interface Case {
  kind: 'hard' | 'corpus';
  text: string;
  ids: number[];
  ids_plain: number[];
  truncated: Record<string, number[]>;
  truncated_plain: Record<string, number[]>;
  decoded?: string[];
  in_context?: string[];
}
interface Golden {
  tokenizer_sha256: string;
  tokenizer_class: string;
  vocab_size: number;
  all_special_ids: number[];
  bos_token_id: number | null;
  eos_token_id: number | null;
  pad_token_id: number | null;
  num_special_tokens_to_add: number;
  cases: Case[];
}

export const REAL_FAMILIES = readdirSync(ROOT).sort();
export const realTokenizerPath = (family: string) => `${ROOT}${family}/tokenizer.json`;
const golden = (family: string) => JSON.parse(readFileSync(`${ROOT}${family}/tokens.json`, 'utf8')) as Golden;

test('the real-family goldens cover GPT-2, GPT-NeoX, Llama (legacy, Metaspace, EOS template), Llama-3 and Gemma', () => {
  assert.deepEqual(REAL_FAMILIES, ['gemma', 'gpt-neox', 'gpt2', 'llama', 'llama-metaspace-eos', 'llama-metaspace-split', 'llama3']);
  assert.equal(golden('gpt2').vocab_size, 50257, 'GPT-2 is the real vocabulary');
});

for (const family of REAL_FAMILIES) {
  test(`${family}: ids as Hugging Face gives them, with and without special tokens`, async () => {
    const g = golden(family);
    const tok = await loadTokenizer(realTokenizerPath(family));
    const plain = await loadTokenizer(realTokenizerPath(family), { addSpecialTokens: false });
    assert.equal(tok.sha256, g.tokenizer_sha256, 'tokenizer.json changed: rerun test/fixtures/real/make_tokenizer_goldens.py');
    assert.equal(tok.vocabSize, g.vocab_size);
    assert.equal(tok.addSpecialTokens, true);
    assert.equal(tok.numAddedTokens, g.num_special_tokens_to_add);
    assert.equal(plain.numAddedTokens, 0);
    assert.ok(g.cases.filter((c) => c.kind === 'hard').length >= 20);
    for (const c of g.cases) {
      assert.deepEqual(tok.encode(c.text), c.ids, `ids (special tokens) differ for ${JSON.stringify(c.text)}`);
      assert.deepEqual(plain.encode(c.text), c.ids_plain, `ids (no special tokens) differ for ${JSON.stringify(c.text)}`);
    }
  });

  test(`${family}: truncation as tokenizer(text, truncation=True, max_length=L)`, async () => {
    const g = golden(family);
    const tok = await loadTokenizer(realTokenizerPath(family));
    const plain = await loadTokenizer(realTokenizerPath(family), { addSpecialTokens: false });
    let checked = 0;
    for (const c of g.cases) {
      for (const [L, ids] of Object.entries(c.truncated)) {
        // HF leaves the text untruncated when L cannot hold the specials; ufg refuses such an L.
        if (Number(L) < tok.numAddedTokens) {
          assert.throws(() => tok.encode(c.text, { maxLength: Number(L) }), /leaves no room for text/);
          continue;
        }
        assert.deepEqual(tok.encode(c.text, { maxLength: Number(L) }), ids, `max_length ${L}: ${JSON.stringify(c.text)}`);
        checked++;
      }
      for (const [L, ids] of Object.entries(c.truncated_plain)) assert.deepEqual(plain.encode(c.text, { maxLength: Number(L) }), ids, `max_length ${L} (no specials): ${JSON.stringify(c.text)}`);
    }
    assert.ok(checked > 20);
  });

  test(`${family}: token strings read as inside a text; special ids and pad`, async () => {
    const g = golden(family);
    const tok = await loadTokenizer(realTokenizerPath(family));
    for (const c of g.cases.filter((x) => x.in_context)) {
      assert.deepEqual(c.ids.map((id) => tok.tokenString(id)), c.in_context, `token strings differ for ${JSON.stringify(c.text)}`);
    }
    for (const id of g.all_special_ids) assert.ok(tok.specialIds.has(id), `HF special id ${id} is special here`);
    for (const id of [g.bos_token_id, g.eos_token_id]) if (id !== null) assert.ok(tok.specialIds.has(id));
    if (g.pad_token_id !== null) assert.equal(tok.padId, g.pad_token_id);
    assert.ok(tok.padId >= 0 && tok.padId < tok.vocabSize);
    // Every id the post-processor adds is special (so BOS positions are excluded from pairing).
    const specialsOnly = tok.encode('');
    assert.equal(specialsOnly.length, tok.numAddedTokens);
    for (const id of specialsOnly) assert.ok(tok.specialIds.has(id), `added id ${id} is special`);
  });
}

test('BOS as each family adds it: Llama <s>, Gemma <bos>, Llama-3 <|begin_of_text|>, GPT-2 and GPT-NeoX nothing', async () => {
  const first = async (family: string) => {
    const tok = await loadTokenizer(realTokenizerPath(family));
    const ids = tok.encode('Hello World');
    return tok.numAddedTokens > 0 ? tok.tokenString(ids[0]!) : null;
  };
  assert.equal(await first('llama'), '<s>');
  assert.equal(await first('gemma'), '<bos>');
  assert.equal(await first('llama3'), '<|begin_of_text|>');
  assert.equal(await first('gpt2'), null);
  assert.equal(await first('gpt-neox'), null);
  const eos = await loadTokenizer(realTokenizerPath('llama-metaspace-eos'));
  const ids = eos.encode('Hello World', { maxLength: 4 });
  assert.deepEqual([eos.tokenString(ids[0]!), eos.tokenString(ids.at(-1)!), ids.length], ['<s>', '</s>', 4], 'truncation keeps the appended EOS');
});
