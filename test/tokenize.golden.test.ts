// The JS tokenizer against golden ids from the Rust `tokenizers` package (make_golden_tokens.py).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { ensureFixtures } from './fixtures/generate.ts';
import { loadTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';

interface Golden {
  tokenizer_sha256: string;
  cases: Array<{ kind: string; text: string; ids: number[]; decoded?: string[] }>;
}

test('fixture tokenizer agrees token for token with HF tokenizers (Rust) on corpus and hard strings', async () => {
  const fx = await ensureFixtures();
  const golden = JSON.parse(await readFile(new URL('./fixtures/golden/fixture_tokens.json', import.meta.url), 'utf8')) as Golden;
  const tok = await loadTokenizer(fx.tokenizerJson);
  assert.equal(tok.sha256, golden.tokenizer_sha256, 'generated tokenizer changed: rerun test/fixtures/make_golden_tokens.py');
  assert.equal(tok.vocabSize, 512);
  assert.equal(tok.padId, 0);
  assert.ok(golden.cases.filter((c) => c.kind === 'hard').length >= 10);
  for (const c of golden.cases) assert.deepEqual(tok.encode(c.text), c.ids, `ids differ for ${JSON.stringify(c.text)}`);
  for (const c of golden.cases.filter((x) => x.decoded)) {
    assert.deepEqual(c.ids.map((id) => tok.tokenString(id)), c.decoded, `token strings differ for ${JSON.stringify(c.text)}`);
  }
});

test('per-token strings of a corpus document concatenate back to the document', async () => {
  const fx = await ensureFixtures();
  const tok = await loadTokenizer(fx.tokenizerJson);
  const text = "On Sunday the king didn't fear the river in France.";
  const ids = tok.encode(text);
  assert.ok(ids.length > 3 && ids.length < text.length);
  assert.equal(ids.map((i) => tok.tokenString(i)).join(''), text);
});
