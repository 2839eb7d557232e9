// Extraction throughput (real tokens/s) against a bare ONNX Runtime loop over the same tapped
// model and the same batches (target ratio ≥ 0.9: tokenising, gathering real positions, NaN
// checks and Arrow writes should cost little next to the forward pass). Also shows what pruning
// the LM head buys: the original model's forward loop with logits.
// Like with like: the bare loop and extraction use the same session options (threads), the same
// tapped model and batches, and both are warmed up over every batch first. Extraction's figure
// includes what a call really costs beyond the forward passes: loading the tokenizer and model,
// resolving taps, gathering real positions, NaN checks, Arrow encoding and durable chunk writes.
// Env: UFG_BENCH_EXTRACT_DOCS (default 300 ≈ 10k tokens, 3 chunks; per-call costs weigh more
// the smaller this is), UFG_BENCH_EXTRACT_ROUNDS (default 3), UFG_BENCH_EXTRACT_BIG=0 skips the
// bigger generated model (d = UFG_BENCH_EXTRACT_BIG_D, default 512 = Pythia-70m's width; 6 layers).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extractActivations } from '../pipelines/extract/index.ts';
import { batchFeeds } from '../pipelines/extract/forward.ts';
import { ort, sessionOptions } from '../pipelines/kernels/session.ts';
import { describeIo, loadOnnxModel } from '../pipelines/model/loadOnnx.ts';
import { resolveTaps } from '../pipelines/model/presets.ts';
import { tapModel } from '../pipelines/model/tap.ts';
import { makeBatches, tokenizeDocs, type Batch } from '../pipelines/tokenize/batches.ts';
import { loadTokenizer } from '../pipelines/tokenize/loadTokenizer.ts';
import { generateCorpus } from '../test/fixtures/corpusFixture.ts';
import { ensureFixtures, FIXTURE_VOCAB_SIZE } from '../test/fixtures/generate.ts';
import { buildTinyModel } from '../test/fixtures/tinyModel.ts';

/** A bare forward loop: one session (same options as extraction's), fed the same batches. */
async function bareLoop(modelPath: string, batches: readonly Batch[], outputs: string[]): Promise<{ pass: () => Promise<number>; release: () => Promise<void> }> {
  const session = await ort.InferenceSession.create(await readFile(modelPath), sessionOptions());
  const inputs = describeIo((await loadOnnxModel(modelPath)).proto.graph!.input);
  const pass = async () => {
    const t0 = performance.now();
    for (const b of batches) await session.run(batchFeeds(b, inputs, modelPath), outputs);
    return (performance.now() - t0) / 1000;
  };
  await pass(); // warm-up over every batch shape, as extraction's warm-up below
  return { pass, release: () => session.release() };
}

const ROUNDS = Number(process.env.UFG_BENCH_EXTRACT_ROUNDS ?? 3);

async function benchModel(label: string, modelPath: string, layers: number[], docs: string[], tokenizerJson: string): Promise<void> {
  const batchSize = 8, maxLength = 64;
  const work = await mkdtemp(join(tmpdir(), 'ufg-bench-extract-'));
  try {
    const tok = await loadTokenizer(tokenizerJson);
    const tokenized = tokenizeDocs(tok, docs, maxLength);
    const batches = makeBatches(tokenized, batchSize, tok.padId);
    const tokens = batches.reduce((n, b) => n + b.numTokens, 0);
    const model = await loadOnnxModel(modelPath);
    const taps = resolveTaps(model.proto.graph!, { preset: 'gpt-neox' }, layers, modelPath);
    const tapped = await tapModel(model, taps, join(work, 'tapped'));
    const bare = await bareLoop(tapped.path, batches, taps.map((t) => t.tensor));
    const withLogits = await bareLoop(modelPath, batches, ['logits']);
    // Extraction's session (cached per process) gets the same warm-up: one full run.
    const opts = { model: modelPath, tokenizerJson, layers, batchSize, maxLength, tapCacheDir: join(work, 'tapped') };
    await extractActivations({ ...opts, tokens: tokenized, outDir: join(work, 'warm') });

    // Rounds interleave the four measurements so load from other processes hits all alike; the
    // ratio is taken per round (bare and extraction measured back to back), then summarised.
    const t = { bare: [] as number[], withLogits: [] as number[], fromTokens: [] as number[], endToEnd: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      t.bare.push(await bare.pass());
      t.withLogits.push(await withLogits.pass());
      let t0 = performance.now();
      await extractActivations({ ...opts, tokens: tokenized, outDir: join(work, `tok-${round}`) });
      t.fromTokens.push((performance.now() - t0) / 1000);
      t0 = performance.now();
      await extractActivations({ ...opts, docs, outDir: join(work, `docs-${round}`) });
      t.endToEnd.push((performance.now() - t0) / 1000);
    }
    const best = (xs: number[]) => Math.min(...xs);
    const rate = (xs: number[]) => `${Math.round(tokens / best(xs)).toLocaleString('en')} tok/s`.padStart(14);
    const ratios = (xs: number[]) => {
      const r = xs.map((x, i) => t.bare[i]! / x).sort((a, b) => a - b);
      return `ratio vs bare tapped loop: best-of-${ROUNDS} ${(best(t.bare) / best(xs)).toFixed(2)}, per round ${r[0]!.toFixed(2)}–${r.at(-1)!.toFixed(2)}`;
    };
    console.log(`extract ${label}: ${tokens} tokens, layers ${layers.join(',')}, batch ${batchSize}×≤${maxLength}, ${ROUNDS} rounds (rates: best round)`);
    console.log(`  bare ORT loop, tapped model:            ${rate(t.bare)}`);
    console.log(`  bare ORT loop, original model + logits: ${rate(t.withLogits)}`);
    console.log(`  extractActivations from tokens:         ${rate(t.fromTokens)}  ${ratios(t.fromTokens)} (target ≥ 0.9)`);
    console.log(`  extractActivations incl. tokenising:    ${rate(t.endToEnd)}  ${ratios(t.endToEnd)}`);
    console.log(`  tapping + pruning vs running the original model: ${(best(t.withLogits) / best(t.bare)).toFixed(2)}x`);
    await bare.release();
    await withLogits.release();
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export async function run(): Promise<void> {
  const fx = await ensureFixtures();
  const numDocs = Number(process.env.UFG_BENCH_EXTRACT_DOCS ?? 300);
  const docs = generateCorpus(11, numDocs);
  await benchModel('fixture model B (d=96, 3 layers)', fx.modelB, [1, 2, 3], docs, fx.tokenizerJson);
  // The fixture model's forward is so cheap (~17 ms a batch) that per-batch bookkeeping shows;
  // a model of Pythia-70m's width (d=512, 6 layers) is the representative case. Skip it with
  // UFG_BENCH_EXTRACT_BIG=0.
  if (process.env.UFG_BENCH_EXTRACT_BIG !== '0') {
    const dir = await mkdtemp(join(tmpdir(), 'ufg-bench-big-'));
    const big = join(dir, 'big.onnx');
    const d = Number(process.env.UFG_BENCH_EXTRACT_BIG_D ?? 512);
    await writeFile(big, buildTinyModel({ style: 'gpt-neox', vocabSize: FIXTURE_VOCAB_SIZE, dModel: d, numLayers: 6, numHeads: 8, seed: 5 }));
    await benchModel(`generated d=${d}, 6 layers`, big, [2, 4, 6], docs, fx.tokenizerJson);
    await rm(dir, { recursive: true, force: true });
  }
}
