// Extraction throughput (real tokens/s) against a bare ONNX Runtime loop over the same tapped
// model and the same batches (target ratio ≥ 0.9: tokenising, gathering real positions, NaN
// checks and Arrow writes should cost little next to the forward pass). Also shows what pruning
// the LM head buys: the original model's forward loop with logits.
// Env: UFG_BENCH_EXTRACT_DOCS (default 300), UFG_BENCH_EXTRACT_BIG=1 adds a bigger generated
// model (d = UFG_BENCH_EXTRACT_BIG_D, default 256; 6 layers; d=512 is Pythia-70m's width).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractActivations } from '../pipelines/extract/index.ts';
import { batchFeeds } from '../pipelines/extract/forward.ts';
import { ort, sessionOptions } from '../pipelines/kernels/session.ts';
import { describeIo, loadOnnxModel } from '../pipelines/model/loadOnnx.ts';
import { resolveTaps } from '../pipelines/model/presets.ts';
import { tapModel } from '../pipelines/model/tap.ts';
import { makeBatches, tokenizeDocs } from '../pipelines/tokenize/batches.ts';
import { loadTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';
import { generateCorpus } from '../test/fixtures/corpusFixture.ts';
import { ensureFixtures, FIXTURE_VOCAB_SIZE } from '../test/fixtures/generate.ts';
import { buildTinyModel } from '../test/fixtures/tinyModel.ts';

async function bareLoop(modelPath: string, batches: ReturnType<typeof makeBatches>, outputs: string[]): Promise<number> {
  const session = await ort.InferenceSession.create(await readFile(modelPath), sessionOptions());
  const inputs = describeIo((await loadOnnxModel(modelPath)).proto.graph!.input);
  await session.run(batchFeeds(batches[0]!, inputs, modelPath), outputs); // warm-up
  const t0 = performance.now();
  for (const b of batches) await session.run(batchFeeds(b, inputs, modelPath), outputs);
  return (performance.now() - t0) / 1000;
}

async function benchModel(label: string, modelPath: string, layers: number[], docs: string[], tokenizerJson: string): Promise<void> {
  const batchSize = 8, maxLength = 64;
  const work = await mkdtemp(join(tmpdir(), 'ufg-bench-extract-'));
  try {
    const tok = await loadTokenizer(tokenizerJson);
    const batches = makeBatches(tokenizeDocs(tok, docs, maxLength), batchSize, tok.padId);
    const tokens = batches.reduce((n, b) => n + b.numTokens, 0);
    const model = await loadOnnxModel(modelPath);
    const taps = resolveTaps(model.proto.graph!, { preset: 'gpt-neox' }, layers, modelPath);
    const tapped = await tapModel(model, taps, join(work, 'tapped'));
    // Warm the extraction path once (session creation, JIT) in a throw-away directory.
    await extractActivations({ model: modelPath, tokenizerJson, docs: docs.slice(0, batchSize), layers, batchSize, maxLength, outDir: join(work, 'warm'), tapCacheDir: join(work, 'tapped') });

    // Best of two rounds each, interleaved, so load from other processes hits all alike.
    const tokenized = tokenizeDocs(tok, docs, maxLength);
    const opts = { model: modelPath, tokenizerJson, layers, batchSize, maxLength, tapCacheDir: join(work, 'tapped') };
    let bare = Infinity, withLogits = Infinity, fromTokens = Infinity, endToEnd = Infinity;
    for (let round = 0; round < 2; round++) {
      bare = Math.min(bare, await bareLoop(tapped.path, batches, taps.map((t) => t.tensor)));
      withLogits = Math.min(withLogits, await bareLoop(modelPath, batches, ['logits']));
      let t0 = performance.now();
      await extractActivations({ ...opts, tokens: tokenized, outDir: join(work, `tok-${round}`) });
      fromTokens = Math.min(fromTokens, (performance.now() - t0) / 1000);
      t0 = performance.now();
      await extractActivations({ ...opts, docs, outDir: join(work, `docs-${round}`) });
      endToEnd = Math.min(endToEnd, (performance.now() - t0) / 1000);
    }
    const rate = (s: number) => `${Math.round(tokens / s).toLocaleString('en')} tok/s`;
    console.log(`extract ${label}: ${tokens} tokens, layers ${layers.join(',')}, batch ${batchSize}×≤${maxLength} (best of 2)`);
    console.log(`  bare ORT loop, tapped model:            ${rate(bare)}`);
    console.log(`  bare ORT loop, original model + logits: ${rate(withLogits)}`);
    console.log(`  extractActivations from tokens:         ${rate(fromTokens)}  ratio vs bare tapped loop ${(bare / fromTokens).toFixed(2)} (target ≥ 0.9)`);
    console.log(`  extractActivations incl. tokenising:    ${rate(endToEnd)}  ratio ${(bare / endToEnd).toFixed(2)}`);
    console.log(`  tapping + pruning vs running the original model: ${(withLogits / bare).toFixed(2)}x`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const fx = await ensureFixtures();
  const numDocs = Number(process.env.UFG_BENCH_EXTRACT_DOCS ?? 300);
  const docs = generateCorpus(11, numDocs);
  await benchModel('fixture model B (d=96, 3 layers)', fx.modelB, [1, 2, 3], docs, fx.tokenizerJson);
  if (process.env.UFG_BENCH_EXTRACT_BIG === '1') {
    const dir = await mkdtemp(join(tmpdir(), 'ufg-bench-big-'));
    const big = join(dir, 'big.onnx');
    const d = Number(process.env.UFG_BENCH_EXTRACT_BIG_D ?? 256);
    await writeFile(big, buildTinyModel({ style: 'gpt-neox', vocabSize: FIXTURE_VOCAB_SIZE, dModel: d, numLayers: 6, numHeads: 8, seed: 5 }));
    await benchModel(`generated d=${d}, 6 layers`, big, [2, 4, 6], docs, fx.tokenizerJson);
    await rm(dir, { recursive: true, force: true });
  }
}
