import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserInputError } from '../pipelines/errors.ts';
import { makeBatches, tokenizeDocs } from '../pipelines/tokenize/batches.ts';
import { loadTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';
import { assertSameTokenization } from '../pipelines/tokenize/sameTokenization.ts';
import { ensureFixtures, fixtureCorpus } from './fixtures/generate.ts';
import { tokenizerJson, trainByteLevelBpe } from './fixtures/tokenizerFixture.ts';

test('batches: right padding with padId, masks mark real tokens, windows truncated to maxLength', () => {
  const docs = [
    { docId: 0, ids: Int32Array.of(5, 6, 7) },
    { docId: 2, ids: Int32Array.of(8) },
    { docId: 3, ids: Int32Array.of(9, 10) },
  ];
  const batches = makeBatches(docs, 2, 99);
  assert.equal(batches.length, 2);
  const [a, b] = batches as [(typeof batches)[0], (typeof batches)[0]];
  assert.equal(a.seqLen, 3);
  assert.deepEqual(Array.from(a.inputIds, Number), [5, 6, 7, 8, 99, 99]);
  assert.deepEqual(Array.from(a.attentionMask, Number), [1, 1, 1, 1, 0, 0]);
  assert.deepEqual(Array.from(a.docIds), [0, 2]);
  assert.equal(a.numTokens, 4);
  assert.equal(b.seqLen, 2);
  assert.equal(b.index, 1);
  assert.deepEqual(Array.from(b.inputIds, Number), [9, 10]);
});

test('tokenizeDocs truncates to maxLength, keeps doc ids, drops documents without tokens', async () => {
  const fx = await ensureFixtures();
  const tok = await loadTokenizer(fx.tokenizerJson);
  const docs = ['The king saw the river.', '', 'January in France was a long cold night for the farmer.'];
  const t = tokenizeDocs(tok, docs, 5);
  assert.deepEqual(t.map((d) => d.docId), [0, 2]);
  assert.deepEqual(Array.from(t[1]!.ids), tok.encode(docs[2]!).slice(0, 5));
  assert.ok(tok.encode(docs[2]!).length > 5);
});

test('assertSameTokenization accepts identical tokenizers and names files, document and position otherwise', async () => {
  const fx = await ensureFixtures();
  const docs = fixtureCorpus().slice(0, 30);
  const a = await loadTokenizer(fx.tokenizerJson);
  const dir = await mkdtemp(join(tmpdir(), 'ufg-tok-'));
  after(() => rm(dir, { recursive: true, force: true }));
  // Same vocabulary and merges, written to another file: accepted (by tokens, not by file hash).
  const copy = join(dir, 'copy.json');
  const trained = trainByteLevelBpe(fixtureCorpus(), 512);
  await writeFile(copy, tokenizerJson(trained.vocab, trained.merges).replace('"version": "1.0"', '"version":"1.0"'));
  const aCopy = await loadTokenizer(copy);
  assert.notEqual(aCopy.sha256, a.sha256);
  assertSameTokenization(a, aCopy, docs, { maxLength: 1000 });
  // Fewer merges: tokens differ already in the first document.
  const small = join(dir, 'small.json');
  const s = trainByteLevelBpe(fixtureCorpus(), 300);
  await writeFile(small, tokenizerJson(s.vocab, s.merges));
  const b = await loadTokenizer(small);
  assert.throws(
    () => assertSameTokenization(a, b, docs, { maxLength: 1000 }),
    (e) => {
      assert.ok(isUserInputError(e));
      const m = (e as Error).message;
      assert.ok(m.includes(fx.tokenizerJson) && m.includes(small), m);
      assert.match(m, /differ at document 0, position \d+ in A \/ position \d+ in B \(token \d+ ".*" vs \d+ ".*"\)/);
      return true;
    },
  );
});

test('tokenStrings decodes each position on its own (labels), special tokens included', async () => {
  const fx = await ensureFixtures();
  const tok = await loadTokenizer(fx.tokenizerJson);
  const { tokenStrings } = await import('../pipelines/tokenize/loadTokenizer.ts');
  const ids = [...tok.encode(' the king'), 0];
  const s = tokenStrings(tok, Int32Array.from(ids));
  assert.equal(s.length, ids.length);
  assert.equal(s.at(-1), '<|endoftext|>');
  assert.equal(s.slice(0, -1).join(''), ' the king');
});
