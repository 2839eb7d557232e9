// Special positions end to end on a Llama-family tokenizer (the real-family golden, which adds
// <s> as Hugging Face does) and a tiny Llama-named ONNX model: the model reads BOS, extraction
// writes no row for it (nor for a <s> typed in the text), counts them, keeps true positions, and
// the pairing inputs built from the token table hold no BOS.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isUserInputError } from '../pipelines/errors.ts';
import { extractActivations, readActivationChunks, readTokenTable, type ExtractResult } from '../pipelines/extract/index.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { matrixSource } from '../pipelines/pair/activationSource.ts';
import { pairAndFilterLayer } from '../pipelines/pair/pairLayer.ts';
import { loadTokenizer, tokenStrings, type LoadedTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';
import { assertSameTokenTables } from '../pipelines/tokenize/sameTokenization.ts';
import { extractActivity, extractSpec } from '../activities/extract.ts';
import { readTokenizedDocs, tokenizeActivity } from '../activities/prepare.ts';
import { registerSource } from '../storage/sources.ts';
import { openStore } from '../storage/store.ts';
import { buildTinyModel } from './fixtures/tinyModel.ts';

const LLAMA_TOKENIZER = new URL('./fixtures/real/tokenizers/llama/tokenizer.json', import.meta.url).pathname;
const GOLDEN = JSON.parse(await readFile(new URL('./fixtures/real/tokenizers/llama/tokens.json', import.meta.url), 'utf8')) as {
  cases: Array<{ kind: string; text: string; ids: number[]; truncated: Record<string, number[]> }>;
};
const MAX_LENGTH = 16;
const BOS = 1;
// Corpus-like documents, one with <s> typed inside, and one with no text at all (left out).
const DOCS = [...GOLDEN.cases.filter((c) => c.kind === 'corpus').map((c) => c.text), 'text then <s> then text', '', 'Hello World'];

let dir: string;
let model: string;
let tok: LoadedTokenizer;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ufg-special-'));
  tok = await loadTokenizer(LLAMA_TOKENIZER);
  model = join(dir, 'llama.onnx');
  await writeFile(model, buildTinyModel({ style: 'llama', vocabSize: tok.vocabSize, dModel: 32, numLayers: 2, numHeads: 2, seed: 7, weightStd: 0.2 }));
});
after(() => rm(dir, { recursive: true, force: true }));

async function extract(name: string, extra: { keepSpecialPositions?: boolean; addSpecialTokens?: boolean; maxLength?: number } = {}): Promise<ExtractResult> {
  return extractActivations({
    model, tokenizerJson: LLAMA_TOKENIZER, docs: DOCS, layers: [0, 2], preset: 'llama',
    batchSize: 2, maxLength: MAX_LENGTH, chunkTokens: 12, outDir: join(dir, name), tapCacheDir: join(dir, 'taps'), ...extra,
  });
}

async function rows(out: string, layer: number): Promise<Mat> {
  const parts: Mat[] = [];
  for await (const m of readActivationChunks(out, layer)) parts.push(m);
  const data = new Float32Array(parts.reduce((n, m) => n + m.data.length, 0));
  let at = 0;
  for (const m of parts) (data.set(m.data, at), (at += m.data.length));
  return { data, rows: data.length / parts[0]!.cols, cols: parts[0]!.cols };
}

test('a Llama-family golden tokenizes with BOS exactly as HF does, and BOS positions are absent from pairing inputs', async () => {
  // The documents the model reads: HF's ids at max_length 16, <s> first.
  for (const c of GOLDEN.cases) assert.deepEqual(tok.encode(c.text, { maxLength: MAX_LENGTH }), c.truncated[String(MAX_LENGTH)]);
  const read = DOCS.map((d) => tok.encode(d, { maxLength: MAX_LENGTH }));
  assert.ok(read.every((ids) => ids[0] === BOS));

  const r = await extract('exclude');
  const table = await readTokenTable(r.outDir);
  // Kept: every position of every document with text, except those holding a special token.
  const kept = read.flatMap((ids, d) => (ids.length > 1 ? ids.map((id, p) => ({ d, p, id })).filter((x) => !tok.specialIds.has(x.id)) : []));
  assert.deepEqual(Array.from(table.tokenIds), kept.map((x) => x.id));
  assert.deepEqual(Array.from(table.docIds), kept.map((x) => x.d));
  assert.deepEqual(Array.from(table.positions), kept.map((x) => x.p), 'positions are the true positions in the document (BOS at 0)');
  assert.ok(!table.tokenIds.includes(BOS) && !table.positions.includes(0), 'no row for a BOS');
  const specials = read.reduce((n, ids) => n + (ids.length > 1 ? ids.filter((id) => tok.specialIds.has(id)).length : 0), 0);
  assert.equal(specials, DOCS.length - 1 + 1, 'one BOS per document with text, plus the typed <s>');
  assert.equal(r.index.numSpecialPositions, specials);
  assert.equal(r.index.specialPositions, 'exclude');
  assert.equal(r.index.numTokens, kept.length);

  // Pairing inputs: one row per kept token, and no label can be a BOS.
  const decoded = tokenStrings(tok, table.tokenIds);
  assert.ok(!decoded.includes('<s>'));
  const l2 = await rows(r.outDir, 2);
  assert.equal(l2.rows, decoded.length);
  const pairing = await pairAndFilterLayer(matrixSource(l2), matrixSource(l2), decoded, { minActivations: 1 });
  for (const label of [...pairing.topTokensA, ...pairing.topTokensB]) assert.ok(!label?.includes('<s>'));
});

test('the model still reads BOS: kept rows equal those of an extraction that keeps special positions, and differ without BOS', async () => {
  const ex = await extract('exclude-2');
  const keep = await extract('keep', { keepSpecialPositions: true });
  const noBos = await extract('no-bos', { addSpecialTokens: false });
  const tEx = await readTokenTable(ex.outDir), tKeep = await readTokenTable(keep.outDir), tNo = await readTokenTable(noBos.outDir);
  assert.equal(keep.index.numSpecialPositions, 0);
  assert.equal(keep.index.numTokens, ex.index.numTokens + ex.index.numSpecialPositions);
  assert.ok(tKeep.tokenIds.includes(BOS));
  const [aEx, aKeep, aNo] = [await rows(ex.outDir, 2), await rows(keep.outDir, 2), await rows(noBos.outDir, 2)];
  const d = aEx.cols;
  const index = (t: typeof tKeep) => new Map(Array.from(t.docIds, (doc, i) => [`${doc}:${t.positions[i]}`, i]));
  const inKeep = index(tKeep);
  let compared = 0;
  for (let i = 0; i < tEx.tokenIds.length; i++) {
    const j = inKeep.get(`${tEx.docIds[i]}:${tEx.positions[i]}`)!;
    assert.equal(tKeep.tokenIds[j], tEx.tokenIds[i]);
    assert.deepEqual(aEx.data.subarray(i * d, (i + 1) * d), aKeep.data.subarray(j * d, (j + 1) * d));
    compared++;
  }
  assert.equal(compared, tEx.tokenIds.length);
  // Without BOS the same text token reads differently after two blocks (attention over BOS is gone).
  assert.equal(noBos.index.numSpecialPositions, 1, 'only the typed <s>');
  assert.deepEqual(Array.from(tNo.tokenIds).slice(0, 5), Array.from(tEx.tokenIds).slice(0, 5));
  assert.equal(tNo.positions[0]! + 1, tEx.positions[0]);
  let maxDiff = 0;
  for (let k = 0; k < d; k++) maxDiff = Math.max(maxDiff, Math.abs(aNo.data[k]! - aEx.data[k]!));
  assert.ok(maxDiff > 1e-4, `layer 2 of the first text token should depend on BOS (max diff ${maxDiff})`);
});

test('special positions: chunk plans stay resumable, and two token tables are compared on kept tokens', async () => {
  const first = await extract('resume');
  await unlink(join(first.outDir, first.index.chunks[1]!.file));
  await unlink(join(first.outDir, 'index.json'));
  const again = await extract('resume');
  assert.ok(again.resumedChunks > 0 && again.computedChunks === 1, `resumed ${again.resumedChunks}, computed ${again.computedChunks}`);
  assert.deepEqual(again.index, first.index);

  // With BOS on one side only, the kept tokens agree row by row (positions shift by one) when
  // every document fits; cut at maxLength, the side with BOS keeps one text token less: refused.
  const plain = await loadTokenizer(LLAMA_TOKENIZER, { addSpecialTokens: false });
  const table = async (name: string, extra: Parameters<typeof extract>[1]) => readTokenTable((await extract(name, extra)).outDir);
  const long = await table('long', { maxLength: 200 });
  assertSameTokenTables({ model: 'with-bos', tokenizer: tok, table: long }, { model: 'without-bos', tokenizer: plain, table: await table('long-no-bos', { maxLength: 200, addSpecialTokens: false }) });
  const ta = await readTokenTable(first.outDir);
  const tb = await table('no-bos-2', { addSpecialTokens: false });
  assert.throws(
    () => assertSameTokenTables({ model: 'with-bos', tokenizer: tok, table: ta }, { model: 'without-bos', tokenizer: plain, table: tb }),
    /row 15 is document 1, position 1 .* for with-bos .* but document 0, position 15 .* for without-bos/,
  );
  // Keeping special positions on one side only: refused, naming both tokenizers, document and positions.
  const keep = await extract('keep-2', { keepSpecialPositions: true });
  const tk = await readTokenTable(keep.outDir);
  assert.throws(
    () => assertSameTokenTables({ model: 'excluding', tokenizer: tok, table: ta }, { model: 'keeping', tokenizer: tok, table: tk }, 'extract-b'),
    (e) => {
      assert.ok(isUserInputError(e));
      const m = (e as Error).message;
      assert.match(m, /^extract-b: the two extractions hold different kept tokens \(\d+ vs \d+ rows\): row 0 is document 0, position 1 token \d+ ".*" for excluding \(.*llama\/tokenizer\.json\) but document 0, position 0 token 1 "<s>" for keeping \(.*llama\/tokenizer\.json\)/);
      return true;
    },
  );
});

test('activities: tokenize keeps BOS in the tokens artifact, extract leaves it out and counts it in its manifest; the switches are in the artifact ids', async () => {
  const store = openStore(join(dir, 'store'));
  const corpusPath = join(dir, 'corpus.txt');
  await writeFile(corpusPath, DOCS.filter((d) => d !== '').join('\n') + '\n');
  const [corpusId, modelId, tokenizerId] = await Promise.all(
    [[corpusPath, 'corpus'], [model, 'model'], [LLAMA_TOKENIZER, 'tokenizer']].map(async ([p, kind]) => (await registerSource(store, p!, { kind })).id),
  );
  const corpus = { path: corpusPath, textField: 'text', numSamples: 0, maxLength: MAX_LENGTH, batchSize: 2, keepSpecialPositions: false };
  const tokens = await tokenizeActivity(store)({ corpusId: corpusId!, tokenizerId: tokenizerId!, tokenizerPath: LLAMA_TOKENIZER, corpus });
  const docs = await readTokenizedDocs(store, tokens.id);
  assert.ok(docs.every((d) => d.ids[0] === BOS), 'the tokens artifact holds what the model reads');
  const noBosTokens = await tokenizeActivity(store)({ corpusId: corpusId!, tokenizerId: tokenizerId!, tokenizerPath: LLAMA_TOKENIZER, corpus, addSpecialTokens: false });
  assert.notEqual(noBosTokens.id, tokens.id);
  assert.ok((await readTokenizedDocs(store, noBosTokens.id)).every((d) => d.ids[0] !== BOS));

  const input = { modelId: modelId!, modelPath: model, tokenizerId: tokenizerId!, tokenizerPath: LLAMA_TOKENIZER, tokensId: tokens.id, layers: [2], preset: 'llama' as const, batchSize: 2, maxLength: MAX_LENGTH, chunkTokens: 12, keepSpecialPositions: false };
  const ex = await extractActivity(store)(input);
  assert.equal(ex.specialPositions, 7, 'six BOS (one per document) and the typed <s>');
  const manifest = (await store.manifest(ex.id))!;
  assert.equal(manifest.counts.specialPositions, 7);
  assert.equal(manifest.counts.tokens, ex.numTokens);
  assert.equal(ex.numTokens + ex.specialPositions, docs.reduce((n, d) => n + d.ids.length, 0));
  assert.deepEqual(extractSpec(input).params.specialPositions, 'exclude');
  const kept = await extractActivity(store)({ ...input, keepSpecialPositions: true });
  assert.notEqual(kept.id, ex.id);
  assert.equal(kept.specialPositions, 0);
  assert.equal(kept.numTokens, ex.numTokens + ex.specialPositions);
});
