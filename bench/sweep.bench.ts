// The paper's scale through the real sweep: two GPT-NeoX models with Pythia-70m (d = 512, 6 blocks)
// and Pythia-160m (d = 768, 12 blocks) shapes (random weights, generated here), 32 768-feature
// TopK SAEs, ~30 000 tokens (100 documents × 300), a 2 × 2 layer sub-grid, 1000 permutations — run
// by a real Temporal dev server, a worker in this process and a fresh artifact store. Per stage: wall
// time (from each artifact's manifest), FLOP (a model of each stage's unavoidable arithmetic), the
// same run's ONNX Runtime GEMM rate, the stage's time at that rate, and the highest RSS sampled
// while it ran; then the whole 6 × 12 grid extrapolated and the process's peak RSS.
//
// Env (smaller values for a quick look): UFG_BENCH_SWEEP_FEATURES (32768), UFG_BENCH_SWEEP_DOCS (100),
// UFG_BENCH_SWEEP_DOC_TOKENS (300), UFG_BENCH_SWEEP_PERMUTATIONS (1000), UFG_BENCH_SWEEP_VOCAB (50304);
// UFG_BENCH_SWEEP_KEEP=1 keeps the run's store and Temporal state (for profiling a stage on them).
// Generated models and SAEs are cached under the OS temp dir by their parameters.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectClient, connectWorker, startDevServer } from '../cli/temporal/index.ts';
import { startSweep, waitForSweep } from '../cli/sweepClient.ts';
import { parseSweepConfig } from '../pipelines/config.ts';
import { residentGemmRate } from '../pipelines/kernels/gemm.ts';
import { kernelLayout } from '../pipelines/kernels/session.ts';
import { planBlocks } from '../pipelines/pair/blockPlan.ts';
import { encodeSafetensors } from '../pipelines/sae/safetensors.ts';
import { gaussian, seededRandom } from '../pipelines/random.ts';
import type { Manifest } from '../storage/manifest.ts';
import { SCORES_FILE, type StoredScores } from '../activities/scores.ts';
import { SUBSPACES_FILE, type StoredCategory } from '../activities/subspaces.ts';
import { runWorker } from '../worker/runWorker.ts';
import { fixtureCorpus, ensureFixtures } from '../test/fixtures/generate.ts';
import { buildTinyModel } from '../test/fixtures/tinyModel.ts';

function envInt(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

const F = envInt('UFG_BENCH_SWEEP_FEATURES', 32768);
const DOCS = envInt('UFG_BENCH_SWEEP_DOCS', 100);
const DOC_TOKENS = envInt('UFG_BENCH_SWEEP_DOC_TOKENS', 300);
const PERMUTATIONS = envInt('UFG_BENCH_SWEEP_PERMUTATIONS', 1000);
const VOCAB = envInt('UFG_BENCH_SWEEP_VOCAB', 50304);
const MODELS = {
  a: { name: 'pythia-70m-shape', d: 512, blocks: 6, heads: 8, layers: [3, 6] },
  b: { name: 'pythia-160m-shape', d: 768, blocks: 12, heads: 12, layers: [6, 12] },
} as const;
/** The full grid the extrapolation is for: every hidden_states layer with a block-output SAE. */
const FULL = { a: 6, b: 12 };
const K = 32;

/** Sparsify `layers.N` checkpoints (TopK k = 32) for the given ufg layers, random weights. */
function writeSaes(root: string, d: number, layers: readonly number[], seed: number): void {
  for (const layer of layers) {
    const dir = join(root, `layers.${layer - 1}`);
    if (existsSync(join(dir, 'sae.safetensors'))) continue;
    mkdirSync(dir, { recursive: true });
    const g = gaussian(seededRandom(seed + layer));
    const r = (n: number, s: number) => {
      const a = new Float32Array(n);
      for (let i = 0; i < n; i++) a[i] = g() * s;
      return a;
    };
    writeFileSync(join(dir, 'sae.safetensors'), encodeSafetensors({
      'encoder.weight': { dtype: 'F32', shape: [F, d], data: r(F * d, 1 / Math.sqrt(d)) },
      'encoder.bias': { dtype: 'F32', shape: [F], data: r(F, 0.05) },
      W_dec: { dtype: 'F32', shape: [F, d], data: r(F * d, 1 / Math.sqrt(d)) },
      b_dec: { dtype: 'F32', shape: [d], data: new Float32Array(d) },
    }));
    writeFileSync(join(dir, 'cfg.json'), JSON.stringify({ k: K, num_latents: F, d_in: d, expansion_factor: F / d }));
  }
}

/** Documents of at least DOC_TOKENS tokens each: fixture documents joined. */
function writeCorpus(path: string): void {
  const base = fixtureCorpus();
  const docs: string[] = [];
  for (let i = 0; i < DOCS; i++) docs.push(Array.from({ length: 40 }, (_, j) => base[(i * 40 + j) % base.length]).join(' '));
  writeFileSync(path, docs.join('\n') + '\n');
}


interface Stage {
  /** How long at least one of the stage's activities was running (they may run side by side). */
  seconds: number;
  /** Each activity's [start, end] (ms). */
  spans: [number, number][];
  flop: number;
  count: number;
  /** Highest RSS sampled while one of the stage's activities ran (stages that overlap share samples). */
  peakRss: number;
}

/** Seconds covered by at least one of the spans. */
function covered(spans: readonly [number, number][]): number {
  let total = 0;
  let end = -Infinity;
  for (const [a, b] of [...spans].sort((x, y) => x[0] - y[0])) {
    if (b <= end) continue;
    total += b - Math.max(a, end);
    end = b;
  }
  return total / 1000;
}

/** The process's RSS every `ms` milliseconds, with the time of each sample. */
function sampleRss(ms: number): { stop(): void; peakBetween(t0: number, t1: number): number } {
  const times: number[] = [];
  const rss: number[] = [];
  const take = () => {
    times.push(Date.now());
    rss.push(process.memoryUsage.rss());
  };
  take();
  const timer = setInterval(take, ms);
  return {
    stop: () => clearInterval(timer),
    peakBetween(t0, t1) {
      let peak = 0;
      for (let i = 0; i < times.length; i++) if (times[i]! >= t0 && times[i]! <= t1) peak = Math.max(peak, rss[i]!);
      return peak;
    },
  };
}

/**
 * The full-space nulls' arithmetic floor, per permutation: SVCCA one n×kA×kB product of the bases
 * and the Gram of the kA×kB result (the spectrum's cheapest route); Procrustes the same on the
 * decoder widths; CKA one n×dA×dB product; RSA n²/2 multiply-adds (a gather, so far from GEMM
 * speed by nature). Measures not listed (kNN) count nothing.
 */
function similarityFlop(s: StoredScores): number {
  const { n, widthA: dA, widthB: dB } = s;
  let flop = 0;
  for (const m of s.scores) {
    if ('skipped' in m) continue;
    const product = (kA: number, kB: number) => 2 * n * kA * kB + 2 * kA * kB * Math.min(kA, kB);
    const perPermutation =
      m.measure === 'svcca' || m.measure === 'svcca-reference' ? product(m.extras?.kA ?? 0, m.extras?.kB ?? 0)
      : m.measure === 'procrustes' ? product(Math.min(n, dA), Math.min(n, dB))
      : m.measure === 'cka' || m.measure === 'cka-debiased' ? 2 * n * dA * dB
      : m.measure === 'rsa' ? n * n
      : 0;
    flop += (m.permutations + 1) * perPermutation;
  }
  return flop;
}

/**
 * Semantic subspaces: per category its features' encoding (T·d each) and correlation (T·fA·fB),
 * and RSA's null on its pairs; SVCCA's null is left out (its kept widths are not stored), so this
 * floor is low, never high.
 */
/** With `paired`: the stage correlated each category's features itself (not given them by the pairing's pass). */
function subspaceFlop(categories: StoredCategory[], tokens: number, paired: boolean): number {
  let flop = 0;
  for (const c of categories) {
    const fA = c.featuresA.length, fB = c.featuresB.length, n = c.pairsA.length;
    if (paired && fA > 0 && fB > 0) flop += 2 * tokens * (MODELS.a.d * fA + MODELS.b.d * fB + fA * fB);
    if (!('skipped' in c.rsa)) flop += (c.rsa.permutations + 1) * n * n;
  }
  return flop;
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');

export async function run(): Promise<void> {
  const key = `F${F}-D${DOCS}x${DOC_TOKENS}-V${VOCAB}`;
  const data = join(tmpdir(), `ufg-bench-sweep-${key}`);
  mkdirSync(data, { recursive: true });
  const fx = await ensureFixtures();
  const t0 = performance.now();
  for (const [side, m] of Object.entries(MODELS)) {
    const file = join(data, `${side}.onnx`);
    if (!existsSync(file)) writeFileSync(file, buildTinyModel({ style: 'gpt-neox', vocabSize: VOCAB, dModel: m.d, numLayers: m.blocks, numHeads: m.heads, seed: side === 'a' ? 70 : 160 }));
    writeSaes(join(data, `saes-${side}`), m.d, m.layers, side === 'a' ? 1000 : 2000);
  }
  const corpus = join(data, 'corpus.txt');
  if (!existsSync(corpus)) writeCorpus(corpus);
  console.log(`inputs ready in ${((performance.now() - t0) / 1000).toFixed(0)} s (${data})`);

  const work = join(tmpdir(), `ufg-bench-sweep-run-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const side = (s: 'a' | 'b') => ({ name: MODELS[s].name, model: join(data, `${s}.onnx`), tokenizer: fx.tokenizerJson, sae: join(data, `saes-${s}`), layers: [...MODELS[s].layers], preset: 'gpt-neox' });
  const config = parseSweepConfig(
    {
      title: 'ufg paper-scale benchmark',
      corpus: { path: corpus, numSamples: DOCS, maxLength: DOC_TOKENS, batchSize: 8 },
      models: { a: side('a'), b: side('b') },
      similarity: { permutations: PERMUTATIONS },
      outDir: join(work, 'out'),
      orchestration: { concurrency: 1, heartbeatTimeoutSeconds: 120 },
    },
    join(work, 'sweep.json'),
  );

  const rateBefore = await residentGemmRate();
  const server = await startDevServer({ stateDir: join(work, 'temporal'), headless: true });
  const opts = { address: server.address, namespace: server.namespace };
  const workerConnection = await connectWorker(opts);
  const abort = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const storeRoot = join(work, 'store');
  const worker = runWorker({ connection: workerConnection, namespace: opts.namespace, storeRoot, signal: abort.signal, onReady: ready });
  const { client, connection } = await connectClient(opts);
  const rssSamples = sampleRss(250);
  let wall = 0;
  try {
    await Promise.race([isReady, worker]);
    const started = performance.now();
    const { workflowId } = await startSweep(client, config);
    await waitForSweep(client, workflowId);
    wall = (performance.now() - started) / 1000;
  } finally {
    rssSamples.stop();
    abort.abort();
    await worker.catch(() => {});
    await connection.close();
    await workerConnection.close();
    await server.stop();
  }
  const rate = Math.max(rateBefore, await residentGemmRate());
  const peakRss = process.resourceUsage().maxRSS * 1024;

  // Per stage: the manifests' own times and counts, and a FLOP model of the heavy ones.
  const stages = new Map<string, Stage>();
  let T = 0;
  for (const id of readdirSync(storeRoot)) {
    const file = join(storeRoot, id, 'manifest.json');
    if (id.startsWith('.') || !existsSync(file)) continue;
    const m = JSON.parse(readFileSync(file, 'utf8')) as Manifest;
    if (m.stage === 'source') continue;
    const s = stages.get(m.stage) ?? { seconds: 0, spans: [], flop: 0, count: 0, peakRss: 0 };
    const span: [number, number] = [Date.parse(m.startedAt), Date.parse(m.finishedAt)];
    s.spans.push(span);
    s.seconds = covered(s.spans);
    s.peakRss = Math.max(s.peakRss, rssSamples.peakBetween(...span));
    s.count++;
    if (m.stage === 'extract') {
      const tokens = m.counts.tokens ?? 0;
      T = tokens;
      const md = (m.params as { layers: number[] }).layers[0] === MODELS.a.layers[0] ? MODELS.a : MODELS.b;
      // Only the blocks up to the deepest tapped layer run (the graph is pruned there).
      const blocks = Math.max(...(m.params as { layers: number[] }).layers);
      s.flop += 2 * tokens * blocks * (12 * md.d * md.d + 2 * DOC_TOKENS * md.d);
    } else if (m.stage === 'sae') {
      const d = (m.summary as { dIn: number }).dIn;
      // statistics pass (pre-activations, with the TopK thresholds merged in) + fit pass (codes,
      // decoding): 3 × 2·T·d·F
      s.flop += 6 * (m.counts.tokens ?? 0) * d * F;
    } else if (m.stage === 'pair') {
      const tokens = m.counts.tokens ?? T;
      const plan = planBlocks(F, F, tokens);
      const rows = Math.ceil(F / plan.blockA);
      s.flop += 2 * tokens * F * F + 2 * tokens * F * MODELS.a.d + rows * 2 * tokens * F * MODELS.b.d;
    } else if (m.stage === 'similarity') {
      s.flop += similarityFlop(JSON.parse(readFileSync(join(storeRoot, id, SCORES_FILE), 'utf8')) as StoredScores);
    } else if (m.stage === 'subspace') {
      s.flop += subspaceFlop(JSON.parse(readFileSync(join(storeRoot, id, SUBSPACES_FILE), 'utf8')) as StoredCategory[], T, (m.counts.categoryPairingsComputed ?? 0) > 0);
    }
    stages.set(m.stage, s);
  }
  const layout = kernelLayout();
  console.log(`paper scale: ${F} features, ${T} tokens, ${MODELS.a.layers.length}×${MODELS.b.layers.length} layer pairs, ${PERMUTATIONS} permutations; ${layout.device}, ONNX Runtime GEMM (operands resident) ${fmt(rate / 1e9)} GFLOP/s; ${layout.computeThreads} compute thread(s) × ${layout.intraOpThreads} intra-op threads`);
  console.log('stage          count   wall s    TFLOP   at GEMM rate s   ratio   peak RSS GiB');
  let gemmBound = 0;
  for (const [name, s] of [...stages].sort((x, y) => y[1].seconds - x[1].seconds)) {
    const atRate = s.flop / rate;
    gemmBound += atRate;
    console.log(`${name.padEnd(14)} ${String(s.count).padStart(5)} ${fmt(s.seconds).padStart(8)} ${(s.flop ? fmt(s.flop / 1e12, 2) : '–').padStart(8)} ${(s.flop ? fmt(atRate) : '–').padStart(16)} ${(s.flop ? fmt(s.seconds / atRate, 2) : '–').padStart(7)} ${fmt(s.peakRss / 2 ** 30, 2).padStart(14)}`);
  }
  // The full grid: extraction once per model (all layers in one pass, the whole depth), feature
  // statistics per layer, everything else per layer pair.
  const per = (name: string) => stages.get(name) ?? { seconds: 0, spans: [], flop: 0, count: 1, peakRss: 0 };
  const pairs = MODELS.a.layers.length * MODELS.b.layers.length;
  const fullPairs = FULL.a * FULL.b;
  // A layer pair's time: while any of its stages ran (similarity and subspaces run side by side).
  const perPair = covered(['pair', 'similarity', 'subspace', 'umap'].flatMap((n) => per(n).spans)) / Math.max(1, per('pair').count);
  // The sub-grid already taps the deepest layer of each model, so the forward passes are the same.
  const extractFull = per('extract').seconds;
  const statsFull = (per('sae').seconds / Math.max(1, per('sae').count)) * (FULL.a + FULL.b);
  const fullGrid = extractFull + statsFull + perPair * fullPairs + per('results').seconds + per('report').seconds;
  console.log(`whole ${FULL.a} × ${FULL.b} grid extrapolated: ${fmt(fullGrid / 3600, 2)} h (${fullPairs} layer pairs at ${fmt(perPair)} s each, ${FULL.a + FULL.b} feature-statistics passes, 2 extractions); measured ${pairs} pairs in ${fmt(wall)} s`);
  console.log(`sweep at paper scale: ${fmt(wall)} s, GEMM-bound ${fmt(gemmBound)} s, ratio ${fmt(wall / gemmBound, 2)}, peak RSS ${fmt(peakRss / 2 ** 30, 2)} GiB`);
  if (process.env.UFG_BENCH_SWEEP_KEEP === '1') console.log(`kept the run's store: ${storeRoot}`);
  else rmSync(work, { recursive: true, force: true });
}
