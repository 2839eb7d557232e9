// The sweep the robustness tests interrupt, and what they compare: the demo sweep on the
// generated fixtures, with a longer corpus and one batch per extraction chunk so extraction takes
// long enough to be killed half-way, and a short heartbeat timeout so a dead worker's activity is
// retried within seconds. The uninterrupted run of it (the baseline) is computed once per code
// version and cached, since every scenario compares against the same numbers.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { connectClient, connectWorker } from '../../cli/temporal/index.ts';
import { demoConfig, type SweepConfig } from '../../pipelines/config.ts';
import { canonicalJson } from '../../storage/artifactId.ts';
import { readParquetTable } from '../../storage/parquet.ts';
import { fixtureCorpus } from '../fixtures/generate.ts';
import type { SweepOutcome } from '../../workflows/index.ts';
import { runWorker } from '../../worker/runWorker.ts';
import { REPO_ROOT, serverSuite, type ServerSuite } from './harness.ts';

/** Copies of the fixture corpus: 2 × 300 documents (~20k tokens), 300 extraction chunks per model. */
const CORPUS_REPEATS = 2;

export interface Scenario {
  fixtures: string;
  config: SweepConfig;
}

/** The fixture corpus repeated, written under `dir` (same bytes every time: same source id). */
export function writeLongCorpus(dir: string, repeats = CORPUS_REPEATS): string {
  const docs = fixtureCorpus();
  const path = join(dir, 'long-corpus.txt');
  writeFileSync(path, Array.from({ length: repeats }, () => docs.join('\n')).join('\n') + '\n');
  return path;
}

/**
 * The scenario sweep: demo models and SAEs, one layer pair (A1 × B2); the long corpus; batch size 2 and
 * chunkTokens 1 (one persisted chunk per batch); few permutations; a 3 s heartbeat timeout.
 */
export async function scenarioConfig(workDir: string, outDir: string): Promise<Scenario> {
  const fixtures = await ensureDemoFixtures();
  mkdirSync(workDir, { recursive: true });
  const config = structuredClone(demoConfig(fixtures, outDir));
  config.title = 'ufg integration scenario';
  config.corpus = { ...config.corpus, path: writeLongCorpus(workDir), numSamples: 0, maxLength: 64, batchSize: 2 };
  // One layer pair (A1 × B2): the interruptions hit extraction and the pair stage; a bigger grid
  // would only repeat the pair stage and cost CI time.
  config.models = { a: { ...config.models.a, layers: [1] }, b: { ...config.models.b, layers: [2] } };
  config.chunkTokens = 1;
  config.similarity = { ...config.similarity, permutations: 30 };
  config.maxMapPoints = 100;
  config.orchestration = { ...config.orchestration, heartbeatTimeoutSeconds: 3 };
  return { fixtures, config };
}

export type ResultRow = Record<string, number | string | boolean | null>;

/** Every row of a results table as plain JSON values (NaN → null), in (layer A, layer B, subspace, metric) order. */
export async function readResultRows(path: string): Promise<ResultRow[]> {
  const t = await readParquetTable(path);
  const rows: ResultRow[] = [];
  for (let i = 0; i < t.numRows; i++) {
    const row: ResultRow = {};
    for (const [name, col] of Object.entries(t.columns)) {
      const v = col[i];
      row[name] = typeof v === 'bigint' ? Number(v) : typeof v === 'number' && !Number.isFinite(v) ? null : (v ?? null);
    }
    rows.push(row);
  }
  const key = (r: ResultRow) => [r.layer_a, r.layer_b, r.subspace, r.metric].join('|');
  return rows.sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
}

/**
 * Float columns may differ in the last f32 bits: ONNX Runtime's multi-threaded kernels do not
 * promise bitwise-reproducible reductions across processes (seen on procrustes, ~1e-7 relative).
 */
const FLOAT_RTOL = 1e-6;
/** Layers, counts and permutations must match exactly. */
const EXACT_COLUMNS = /^(layer_a|layer_b|permutations|n_pairs|count_.*)$/;

/**
 * Same rows with the same keys, layers, counts, permutations, skip reasons and artifact ids, and
 * scores, nulls and p-values equal to FLOAT_RTOL (relative); the message names the first difference. Returns the largest relative deviation.
 */
export function assertSameResults(actual: ResultRow[], expected: ResultRow[], what: string): number {
  assert.ok(expected.length > 0, 'the baseline has rows');
  assert.equal(actual.length, expected.length, `${what}: number of result rows`);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const [a, e] = [actual[i]!, expected[i]!];
    const where = `${what}: row ${i} (${e.layer_a}/${e.layer_b}/${e.subspace}/${e.metric})`;
    assert.deepStrictEqual(Object.keys(a).sort(), Object.keys(e).sort(), `${where}: columns`);
    for (const col of Object.keys(e)) {
      const [x, y] = [a[col], e[col]];
      if (typeof x === 'number' && typeof y === 'number' && (Number.isNaN(x) || Number.isNaN(y))) {
        assert.ok(Number.isNaN(x) && Number.isNaN(y), `${where}: ${col} ${x} vs ${y}`);
      } else if (typeof x === 'number' && typeof y === 'number' && !EXACT_COLUMNS.test(col)) {
        // The effect divides a difference of two scores by the null sd: their last-bit noise
        // arrives scaled by (|observed| + |null mean|) / null sd.
        const scale = col === 'effect' ? Math.max(1, (Math.abs(e.observed as number) + Math.abs(e.null_mean as number)) / (e.null_sd as number)) : 1;
        const rel = Math.abs(x - y) / Math.max(1e-3, Math.abs(y)) / scale;
        worst = Math.max(worst, rel);
        assert.ok(rel <= FLOAT_RTOL, `${where}: ${col} ${x} vs ${y} (relative difference ${rel.toExponential(2)}${scale > 1 ? `, over the effect's scale ${scale.toPrecision(3)}` : ''})`);
      } else {
        assert.deepStrictEqual(x, y, `${where}: ${col}`);
      }
    }
  }
  return worst;
}

/** Source files whose change can change the numbers: the cache key of the baseline. */
function codeFingerprint(): string {
  const h = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (name === 'node_modules' || name === 'generated' || name.startsWith('.')) continue;
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(ts|mjs|json|py)$/.test(name)) h.update(relative(REPO_ROOT, p)).update('\0').update(readFileSync(p)).update('\0');
    }
  };
  for (const d of ['pipelines', 'activities', 'workflows', 'worker', 'storage', 'test/fixtures']) walk(join(REPO_ROOT, d));
  h.update(readFileSync(join(REPO_ROOT, 'package-lock.json')));
  return h.digest('hex');
}

/** The config's identity without the places it writes to or reads the corpus from. */
function configFingerprint(config: SweepConfig): string {
  const { source: _s, outDir: _o, title: _t, orchestration: _orc, ...rest } = config;
  const corpus = { ...rest.corpus, path: createHash('sha256').update(readFileSync(config.corpus.path)).digest('hex') };
  const models = JSON.parse(JSON.stringify(rest.models).replaceAll(REPO_ROOT, '<repo>')) as unknown;
  return createHash('sha256').update(canonicalJson({ ...rest, corpus, models } as never)).digest('hex');
}

export interface Baseline {
  rows: ResultRow[];
  outcome: SweepOutcome;
  /** Wall time of the uninterrupted sweep, when it was run. */
  seconds: number;
  /** True when this process computed it (false: read from the cache). */
  computed: boolean;
}

/**
 * Results of the scenario sweep run without interruption, on `address`, by a worker in this
 * process on a store of its own (stopped before returning, so it never takes the scenario's
 * tasks). Cached under the OS temp dir by code fingerprint + config, written atomically.
 */
export async function baselineResults(config: SweepConfig, address: string): Promise<Baseline> {
  const key = createHash('sha256').update(codeFingerprint()).update(configFingerprint(config)).digest('hex').slice(0, 24);
  const cacheRoot = join(tmpdir(), 'ufg-it-baselines');
  const cached = join(cacheRoot, key, 'baseline.json');
  if (existsSync(cached)) {
    const b = JSON.parse(readFileSync(cached, 'utf8')) as Omit<Baseline, 'computed'>;
    return { ...b, computed: false };
  }
  const work = join(cacheRoot, `${key}.tmp-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const baselineConfig: SweepConfig = { ...structuredClone(config), outDir: join(work, 'out'), title: 'ufg integration baseline' };
  const workerConnection = await connectWorker({ address, namespace: 'default' });
  const abort = new AbortController();
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  const worker = runWorker({ connection: workerConnection, namespace: 'default', storeRoot: join(work, 'store'), signal: abort.signal, onReady: ready });
  const { client, connection } = await connectClient({ address, namespace: 'default' });
  try {
    await Promise.race([isReady, worker]);
    const started = performance.now();
    const { workflowId } = await startSweep(client, baselineConfig);
    const outcome = await waitForSweep(client, workflowId);
    const seconds = (performance.now() - started) / 1000;
    const rows = await readResultRows(outcome.resultsPath);
    writeFileSync(join(work, 'baseline.json'), JSON.stringify({ rows, outcome, seconds }));
    rmSync(join(work, 'store'), { recursive: true, force: true });
    rmSync(join(work, 'out'), { recursive: true, force: true });
    try {
      mkdirSync(cacheRoot, { recursive: true });
      renameSync(work, join(cacheRoot, key));
    } catch {
      rmSync(work, { recursive: true, force: true }); // another process cached it first
    }
    return { rows, outcome, seconds, computed: true };
  } finally {
    abort.abort();
    await worker.catch(() => undefined);
    await connection.close();
    await workerConnection.close();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Committed artifact ids in a local store root (directories with a manifest). */
export function committedArtifacts(storeRoot: string): string[] {
  if (!existsSync(storeRoot)) return [];
  return readdirSync(storeRoot)
    .filter((n) => !n.startsWith('.') && existsSync(join(storeRoot, n, 'manifest.json')))
    .sort();
}

export function readManifestJson<T = Record<string, unknown>>(storeRoot: string, id: string): T {
  return JSON.parse(readFileSync(join(storeRoot, id, 'manifest.json'), 'utf8')) as T;
}

/**
 * Extractions in progress, with the number of chunks persisted: per artifact, the attempt folder
 * (`.staging/<id>/<token>/`) that got furthest.
 */
export function extractionStaging(storeRoot: string): { id: string; chunks: number; done: boolean }[] {
  const staging = join(storeRoot, '.staging');
  if (!existsSync(staging)) return [];
  const out: { id: string; chunks: number; done: boolean }[] = [];
  for (const name of readdirSync(staging)) {
    if (!/^extract-[0-9a-f]+$/.test(name)) continue;
    let best: { chunks: number; done: boolean } | undefined;
    try {
      for (const attempt of readdirSync(join(staging, name), { withFileTypes: true })) {
        if (!attempt.isDirectory()) continue;
        const files = readdirSync(join(staging, name, attempt.name));
        const seen = { chunks: files.filter((f) => /^chunk-\d+\.arrow$/.test(f)).length, done: files.includes('index.json') };
        if (!best || seen.chunks > best.chunks) best = seen;
      }
    } catch {
      // committed (renamed away) between the reads
    }
    if (best) out.push({ id: name, ...best });
  }
  return out;
}

/** What every interrupted-sweep test file shares: a dev server, the scenario and its baseline. */
export interface ScenarioSuite extends ServerSuite {
  scenario: Scenario;
  baseline: Baseline;
}

export function scenarioSuite(prefix: string): ScenarioSuite {
  return serverSuite<ScenarioSuite>(prefix, async (suite) => {
    suite.scenario = await scenarioConfig(join(suite.dir, 'work'), join(suite.dir, 'out'));
    suite.baseline = await baselineResults(suite.scenario.config, suite.server.address);
  });
}
