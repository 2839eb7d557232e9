// The sweep end to end on a real Temporal dev server with a real worker (ONNX Runtime, the
// artifact store on disk, the real similarity stage): results, report and maps land in outDir,
// every results row traces back to the source files, a second start reuses everything, a long
// grid continues as new, cancellation reaches children and activities, and bad input fails fast
// with the message that names the problem, never retried and leaving no artifact behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import type { Client } from '@temporalio/client';
import { Matrix, SingularValueDecomposition } from 'ml-matrix';
import { extractSpec, featureStatsSpec } from '../activities/extract.ts';
import { readKeptPairs, readPairing } from '../activities/layerData.ts';
import { benjaminiHochberg } from '../pipelines/similarity/multipleTesting.ts';
import { tokenizeSpec } from '../activities/prepare.ts';
import { cancelSweep, resumeSweep, startSweep, sweepStatus, waitForSweep, SweepFailedError } from '../cli/sweepClient.ts';
import { sweepIdOf, type SweepConfig } from '../pipelines/config.ts';
import type { FeatureMapData } from '../pipelines/render/types.ts';
import { loadSae } from '../pipelines/sae/index.ts';
import { resolveLayerSaes } from '../pipelines/sae/layerSaes.ts';
import { artifactId } from '../storage/artifactId.ts';
import { lineageSources, lineageTree } from '../storage/lineage.ts';
import { readParquetTable } from '../storage/parquet.ts';
import { resolveArtifactRef } from '../storage/resultsRef.ts';
import { hashSourcePath, sourceSpec } from '../storage/sources.ts';
import { prepWorkflowId, type SweepOutcome, type SweepProgress } from '../workflows/index.ts';
import { demoSweepSuite, type SweepTestEnv } from './temporal.env.ts';

let env: SweepTestEnv;
let fixtures: string;
let demo: SweepConfig;
let first: SweepOutcome;

demoSweepSuite((s) => ({ env, fixtures, demo } = s));

function withChanges(base: SweepConfig, change: (c: SweepConfig) => void): SweepConfig {
  const c = structuredClone(base);
  change(c);
  return c;
}

async function sourceId(path: string): Promise<string> {
  return artifactId(sourceSpec(await hashSourcePath(path, env.store.cacheDir)));
}

/** Attempts of every started activity in a workflow's history, and whether its failures were non-retryable. */
async function activityAttempts(client: Client, workflowId: string): Promise<{ attempts: number[]; failures: { message: string; nonRetryable: boolean }[] }> {
  const history = await client.workflow.getHandle(workflowId).fetchHistory();
  const attempts: number[] = [];
  const failures: { message: string; nonRetryable: boolean }[] = [];
  for (const e of history.events ?? []) {
    if (e.activityTaskStartedEventAttributes) attempts.push(e.activityTaskStartedEventAttributes.attempt ?? 0);
    const f = e.activityTaskFailedEventAttributes?.failure;
    if (f) failures.push({ message: f.message ?? '', nonRetryable: f.applicationFailureInfo?.nonRetryable === true });
  }
  return { attempts, failures };
}

async function expectFailure(config: SweepConfig, message: RegExp): Promise<string> {
  const { workflowId } = await startSweep(env.client, config);
  await assert.rejects(waitForSweep(env.client, workflowId), (e: unknown) => {
    assert.ok(e instanceof SweepFailedError, `expected SweepFailedError, got ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
  return workflowId;
}

/** The FeatureMapData embedded in a published feature-map page. */
function mapData(htmlPath: string): FeatureMapData {
  const m = /<script type="application\/json" id="ufg-data">([\s\S]*?)<\/script>/.exec(readFileSync(htmlPath, 'utf8'));
  assert.ok(m, `${htmlPath} embeds its data`);
  return JSON.parse(m[1]!) as FeatureMapData;
}

/** The kept pairs' decoder rows (row i of A ↔ row i of B) behind a scores artifact, in f64, read straight from the files. */
async function keptDecoderRows(scoresId: string, layerA: number, layerB: number): Promise<{ x: number[][]; y: number[][]; pairId: string }> {
  const manifest = (await env.store.manifest(scoresId))!;
  const [pairId, saeA, saeB] = manifest.inputs as [string, string, string];
  const pairs = await readKeptPairs(env.store, pairId);
  const rows = async (saeId: string, layer: number, features: number[]) => {
    const sae = await loadSae((await env.store.manifest(saeId))!.source!.path);
    return features.map((f) => Array.from(sae.wDec.subarray(f * sae.dIn, (f + 1) * sae.dIn)));
  };
  return { x: await rows(saeA, layerA, pairs.a), y: await rows(saeB, layerB, pairs.b), pairId };
}

/**
 * Debiased linear CKA through the n×n Gram matrices of the raw rows, U-centred (Székely & Rizzo:
 * Â_ij = a_ij − ā_i· − ā_·j + ā for i ≠ j, sums over the off-diagonal, divided by n − 2 and
 * (n − 1)(n − 2)), whose inner product is the unbiased HSIC: ⟨K̂, L̂⟩ / (‖K̂‖ ‖L̂‖).
 */
function gramCkaDebiased(x: number[][], y: number[][]): number {
  const n = x.length;
  const uCentred = (m: number[][]) => {
    const k = m.map((ri) => m.map((rj) => ri.reduce((s, v, c) => s + v * rj[c]!, 0)));
    const rows = k.map((r, i) => r.reduce((s, v, j) => s + (i === j ? 0 : v), 0));
    const total = rows.reduce((s, v) => s + v, 0);
    return k.map((r, i) => r.map((v, j) => (i === j ? 0 : v - rows[i]! / (n - 2) - rows[j]! / (n - 2) + total / ((n - 1) * (n - 2)))));
  };
  const k = uCentred(x), l = uCentred(y);
  const dot = (a: number[][], b: number[][]) => a.reduce((s, r, i) => s + r.reduce((t, v, j) => t + v * b[i]![j]!, 0), 0);
  return dot(k, l) / Math.sqrt(dot(k, k) * dot(l, l));
}

/**
 * Orthogonal Procrustes by its definition: both sides scaled to unit Frobenius norm and zero-padded
 * to one width, the best rotation R = UVᵀ from the SVD of X̂ᵀŶ, then ‖X̂R − Ŷ‖_F / ‖Ŷ‖_F.
 */
function procrustesDistance(x: number[][], y: number[][]): number {
  const width = Math.max(x[0]!.length, y[0]!.length);
  const unit = (m: number[][]) => {
    const norm = Math.sqrt(m.reduce((s, r) => s + r.reduce((t, v) => t + v * v, 0), 0));
    return new Matrix(m.map((r) => [...r.map((v) => v / norm), ...Array<number>(width - r.length).fill(0)]));
  };
  const X = unit(x), Y = unit(y);
  const svd = new SingularValueDecomposition(X.transpose().mmul(Y));
  const R = svd.leftSingularVectors.mmul(svd.rightSingularVectors.transpose());
  return X.mmul(R).sub(Y).norm('frobenius') / Y.norm('frobenius');
}

/**
 * How many kept pairs are planted pairs (the fixtures' ground truth: the A and B features of one
 * shared concept), and how many planted pairs there are.
 */
function plantedHits(kept: { a: number[]; b: number[] }): { hits: number; planted: number; kept: number } {
  const truth = JSON.parse(readFileSync(join(fixtures, 'saes', 'truth.json'), 'utf8')) as { pairs: [number, number][] };
  const planted = new Set(truth.pairs.map(([a, b]) => `${a},${b}`));
  return { hits: kept.a.filter((a, i) => planted.has(`${a},${kept.b[i]}`)).length, planted: planted.size, kept: kept.a.length };
}

/** True when no value occurs twice. */
const distinct = (xs: readonly number[]) => new Set(xs).size === xs.length;

describe('demo sweep', () => {
  test('completes and writes results.parquet, report.html and one UMAP page per layer pair', async () => {
    const started = await startSweep(env.client, demo);
    assert.equal(started.workflowId, sweepIdOf(demo));
    assert.equal(started.attached, false);
    const seen: string[] = [];
    first = await waitForSweep(env.client, started.workflowId, { onProgress: (p) => seen.push(p.stage), pollMs: 200 });
    assert.equal(first.layerPairs, 4);
    // Per side 5 sources (corpus, model, tokenizer, 2 SAE layers) + tokenize + extract + 2 feature
    // stats; 5 artifacts per layer pair (its categories' pairings among them); results; report. The
    // corpus, tokenizer and tokenize artifact are the same for both sides: the side that comes
    // second may find them (reused).
    assert.equal(first.reused + first.produced, 2 * 9 + 4 * 5 + 2);
    assert.ok(first.reused <= 3, `a fresh store reuses at most the shared inputs: ${first.reused}`);
    assert.ok(seen.includes('pairs'), `progress stages seen: ${[...new Set(seen)].join(', ')}`);

    assert.equal(first.resultsPath, join(demo.outDir, 'results.parquet'));
    assert.equal(first.mapPaths.length, 4);
    for (const p of [first.resultsPath, first.reportPath, ...first.mapPaths]) assert.ok(existsSync(p), `${p} exists`);
    const report = readFileSync(first.reportPath, 'utf8');
    for (const la of demo.models.a.layers) for (const lb of demo.models.b.layers) {
      assert.match(report, new RegExp(`data-testid="cell-svcca-${la}-${lb}"`));
      assert.match(report, new RegExp(`maps/A${la}_B${lb}\\.html`));
    }
    assert.match(readFileSync(first.mapPaths[0]!, 'utf8'), /ufg\.featureMap/);

    const table = await readParquetTable(first.resultsPath);
    const col = (name: string, i: number) => table.columns[name]![i];
    const full = [...Array(table.numRows).keys()].filter((i) => col('subspace', i) === 'full');
    // A two-model sweep's rows are model a vs model b, against the row-permutation null.
    for (let i = 0; i < table.numRows; i++) assert.deepEqual([col('model_a', i), col('model_b', i), col('control', i), col('null', i)], ['a', 'b', '', 'rows']);
    const metrics = demo.similarity.metrics;
    assert.deepEqual([...metrics].sort(), ['cka-debiased', 'knn', 'procrustes', 'rsa', 'svcca'], 'the default metrics');
    assert.equal(full.length, 4 * metrics.length, 'one full-space row per metric per layer pair');
    for (const la of demo.models.a.layers) for (const lb of demo.models.b.layers) {
      const rows = full.filter((i) => col('layer_a', i) === la && col('layer_b', i) === lb);
      assert.deepEqual(rows.map((i) => col('metric', i)), metrics, `A${la}/B${lb}: every metric once, in config order`);
      assert.equal(new Set(rows.map((i) => col('artifact_id', i))).size, 1, 'the full-space rows of a pair share their scores artifact');
    }
    for (const i of full) {
      const what = `${col('metric', i)} A${col('layer_a', i)}/B${col('layer_b', i)}`;
      for (const c of ['observed', 'null_mean', 'null_sd', 'p']) assert.ok(Number.isFinite(col(c, i) as number), `${what}: ${c} = ${col(c, i)}`);
      const p = col('p', i) as number;
      assert.ok(p > 0 && p <= 1, `${what}: p ${p}`);
      assert.ok((col('null_sd', i) as number) > 0, `${what}: a null with spread`);
      assert.equal(col('skipped', i), '');
      assert.equal(col('permutations', i), demo.similarity.permutations);
      assert.match(col('artifact_id', i) as string, /^similarity-[0-9a-f]{16}$/);
      assert.equal(col('measure', i), col('metric', i), 'compat described: each metric is its own measure');
      assert.equal(col('larger_is_more_similar', i), col('metric', i) !== 'procrustes', `${what}: only Procrustes is a distance`);
      assert.ok((col('count_all_b', i) as number) >= (col('count_after_low_correlation', i) as number));
      for (const side of ['a', 'b']) assert.ok(Number.isInteger(col(`count_unlabelled_${side}`, i)) && (col(`count_unlabelled_${side}`, i) as number) >= 0, `${what}: count_unlabelled_${side}`);
      assert.ok((col('count_unlabelled_b', i) as number) <= (col('count_all_b', i) as number) - (col('count_after_keywords', i) as number), `${what}: an unlabelled B feature's pair fails the keyword stage`);
    }
    const sds = (i: number) => ((col('observed', i) as number) - (col('null_mean', i) as number)) / (col('null_sd', i) as number);
    // The planted fixtures share their features: RSA and CKA of the kept pairs stand far above
    // their nulls, and the Procrustes distance far below its null (p counts nulls at or below).
    const isMetric = (m: string) => full.filter((i) => col('metric', i) === m);
    for (const i of [...isMetric('rsa'), ...isMetric('cka-debiased')]) assert.ok(sds(i) > 3, `${col('metric', i)}: ${sds(i)} null sds above`);
    for (const i of isMetric('procrustes')) assert.ok(sds(i) < -3, `procrustes: ${sds(i)} null sds`);
    // Every scored row: its effect against the null, a saturation flag with a reason exactly when
    // set; q = Benjamini–Hochberg over every scored p of the sweep (cells × subspaces × metrics).
    const all = [...Array(table.numRows).keys()];
    const scored = all.filter((i) => col('skipped', i) === '');
    assert.ok(scored.some((i) => col('subspace', i) !== 'full'), 'some subspace rows are scored');
    for (const i of all) {
      const what = `${col('metric', i)} A${col('layer_a', i)}/B${col('layer_b', i)} ${col('subspace', i)}`;
      assert.equal(typeof col('saturated', i), 'boolean', what);
      assert.equal(col('saturated_reason', i) !== '', col('saturated', i), `${what}: a reason exactly when saturated`);
      const e = col('effect', i) as number;
      if (col('skipped', i) !== '') assert.ok(Number.isNaN(e) && Number.isNaN(col('q', i) as number), `${what}: skipped rows have no effect or q`);
      else if (Number.isFinite(e)) assert.ok(Math.abs(e - sds(i)) <= 1e-9 * Math.max(1, Math.abs(e)), `${what}: effect ${e} vs ${sds(i)}`);
    }
    const q = benjaminiHochberg(all.map((i) => (col('skipped', i) === '' ? (col('p', i) as number) : Number.NaN)));
    for (const i of scored) assert.ok(Math.abs((col('q', i) as number) - q[i]!) < 1e-12 && (col('q', i) as number) >= (col('p', i) as number), `row ${i}: q ${col('q', i)} vs ${q[i]}`);
    // The report draws a heat-map per metric with the table's q behind every star.
    for (const m of metrics) assert.match(report, new RegExp(`data-testid="heatmap-${m}"`));
    for (const i of full) {
      const cell = new RegExp(`data-testid="cell-${col('metric', i)}-${col('layer_a', i)}-${col('layer_b', i)}"[^>]* data-q="([^"]*)" data-star="(\\d)"`).exec(report);
      assert.ok(cell, `report cell of row ${i}`);
      assert.equal(Number(cell[1]), col('q', i), `row ${i}: the report's q is the table's`);
      assert.equal(cell[2], (col('q', i) as number) <= 0.05 ? '1' : '0', `row ${i}: star iff q ≤ 0.05`);
    }
    // Each feature map's metrics panel has debiased CKA, RSA, Procrustes, SVCCA and k-NN of the
    // kept pairs, each with the scores artifact id.
    const map = mapData(first.mapPaths[0]!);
    assert.deepEqual(Object.keys(map.metrics.selection).sort(), ['cka-debiased', 'knn', 'procrustes', 'rsa', 'svcca']);
    assert.equal(map.method, 'greedy');
    for (const v of Object.values(map.metrics.selection)) assert.match(v!.artifactId!, /^similarity-/);
  });

  test('debiased CKA and Procrustes rows equal an independent computation on the kept pairs\' decoder rows', async () => {
    const table = await readParquetTable(first.resultsPath);
    const rows = [...Array(table.numRows).keys()].filter((i) => table.columns.subspace![i] === 'full');
    const checked = rows.filter((r) => ['cka-debiased', 'procrustes'].includes(table.columns.metric![r] as string));
    assert.equal(checked.length, 8);
    for (const i of checked) {
      const { x, y } = await keptDecoderRows(table.columns.artifact_id![i] as string, table.columns.layer_a![i] as number, table.columns.layer_b![i] as number);
      const expected = table.columns.metric![i] === 'cka-debiased' ? gramCkaDebiased(x, y) : procrustesDistance(x, y);
      const observed = table.columns.observed![i] as number;
      assert.ok(Math.abs(observed - expected) < 1e-4, `${table.columns.metric![i]} A${table.columns.layer_a![i]}/B${table.columns.layer_b![i]}: ${observed} vs independent ${expected}`);
    }
  });

  test('every results row carries an artifact id whose lineage reaches the corpus, model and SAE files', async () => {
    const table = await readParquetTable(first.resultsPath);
    for (const row of [0, table.numRows - 1]) {
      const id = await resolveArtifactRef(`${first.resultsPath}#${row}`);
      assert.equal(id, table.columns.artifact_id![row]);
      const kinds = new Set(lineageSources(await lineageTree(env.store, id)).map((m) => m.source!.kind));
      for (const k of ['corpus', 'model', 'tokenizer', 'sae']) assert.ok(kinds.has(k), `row ${row}: lineage reaches a ${k} source`);
    }
    const cli = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'ufg.mjs'), 'lineage', `${first.resultsPath}#0`, '--store', env.storeRoot], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    assert.match(cli.stdout, /source \(model\)\s+\S*model-a\.onnx/);
    assert.match(cli.stdout, /source \(sae\)/);
    assert.match(cli.stdout, /produced by: workflow ufg-sweep-[0-9a-f]{16}\.pair-A\d-B\d\//);
  });

  test('starting the finished sweep again reuses every artifact and gives the same results', async () => {
    const again = await startSweep(env.client, demo);
    assert.equal(again.attached, false, 'the first run is closed: a new run of the same id');
    const second = await waitForSweep(env.client, again.workflowId);
    assert.equal(second.produced, 0);
    // The category pairings are counted where they are computed (inside a pairing); a reused
    // pairing does not look them up, so they are not among the reused.
    assert.equal(second.reused, first.produced + first.reused - 4);
    assert.equal(second.resultsId, first.resultsId);
    assert.equal(second.reportId, first.reportId);
  });

  test('a grid larger than pairsPerRun continues as new, and starting it twice attaches', async () => {
    const config = withChanges(demo, (c) => (c.orchestration.pairsPerRun = 1));
    const a = await startSweep(env.client, config);
    const b = await startSweep(env.client, config);
    assert.equal(b.workflowId, a.workflowId);
    assert.equal(b.attached, true);
    const out = await waitForSweep(env.client, a.workflowId);
    assert.equal(out.runs, 4, 'one run per layer pair');
    assert.equal(out.resultsId, first.resultsId, 'same artifacts as the single-run sweep');
    // Only the report is new: it names its sweep, and this config is another sweep.
    assert.notEqual(out.reportId, first.reportId);
    assert.equal(out.produced, 1);
  });
  test('a terminated sweep resumes under the same id from its recorded config, reusing what was done', async () => {
    // Another seed: model prep is shared with the demo (reused), every score is new work.
    const config = withChanges(demo, (c) => (c.similarity.seed = 7));
    const { workflowId } = await startSweep(env.client, config);
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 0; i < 400; i++) {
      const s = await sweepStatus(env.client, workflowId);
      if (s.progress?.stage === 'pairs' || s.status !== 'RUNNING') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if ((await sweepStatus(env.client, workflowId)).status === 'RUNNING') await handle.terminate('test: interrupted half-way');
    assert.notEqual((await sweepStatus(env.client, workflowId)).status, 'RUNNING');
    const resumed = await resumeSweep(env.client, workflowId);
    assert.equal(resumed.workflowId, workflowId);
    assert.equal(resumed.attached, false);
    const out = await waitForSweep(env.client, workflowId);
    assert.equal(out.layerPairs, 4);
    // The pairings are the demo's, and so are their category pairings (not counted: see above).
    assert.equal(out.reused + out.produced, first.reused + first.produced - 4);
    assert.ok(out.reused >= 2 * 9, `model prep is the demo's, reused: ${out.reused}`);
    assert.ok(out.produced >= 2, `at least results and report are new for the new seed: ${out.produced}`);
    assert.notEqual(out.resultsId, first.resultsId);
  });
});

describe('SAE per layer by hookpoint, and its fit', () => {
  test('every result row names the hookpoint of each side and the SAE fit; the report shows both and no warning', async () => {
    const table = await readParquetTable(first.resultsPath);
    const col = (name: string, i: number) => table.columns[name]![i];
    for (let i = 0; i < table.numRows; i++) {
      const la = col('layer_a', i) as number, lb = col('layer_b', i) as number;
      // Demo layer L of each model gets the SAE of block L-1 (trained on hidden_states[L]).
      assert.equal(col('sae_hookpoint_a', i), `layers.${la - 1} → hidden_states[${la}]`);
      assert.equal(col('sae_hookpoint_b', i), `blocks.${lb - 1}.hook_resid_post → hidden_states[${lb}]`);
      for (const c of ['sae_fvu_a', 'sae_fvu_b']) {
        const fvu = col(c, i) as number;
        assert.ok(fvu > 0 && fvu < 0.5, `${c} A${la}/B${lb}: ${fvu}: the fixture SAEs fit their layers`);
      }
      assert.ok((col('sae_l0_a', i) as number) > 0 && (col('sae_l0_a', i) as number) <= 4, `TopK k=4: L0 ${col('sae_l0_a', i)}`);
      const dead = col('sae_dead_b', i) as number;
      assert.ok(dead >= 0 && dead < 1);
    }
    assert.deepEqual(first.warnings, []);
    const report = readFileSync(first.reportPath, 'utf8');
    assert.equal((report.match(/data-testid="sae-fit"/g) ?? []).length, 2 * first.layerPairs, 'a fit row per side on every pair card');
    assert.doesNotMatch(report, /data-testid="warnings"/);
  });

  test('a shifted explicit mapping runs with a warning on the plan, the outcome and the report; --strict refuses it before any work', async () => {
    const root = demo.models.a.sae as string;
    const shifted = withChanges(demo, (c) => {
      c.models.a.layers = [1];
      c.models.b.layers = [2];
      c.similarity.permutations = 50;
      c.models.a.sae = { '1': join(root, 'layers.1') };
    });
    const { workflowId } = await startSweep(env.client, shifted);
    const progress: SweepProgress[] = [];
    const out = await waitForSweep(env.client, workflowId, { onProgress: (p) => progress.push(p), pollMs: 100 });
    const warning = /models\.a \(fixture-a \(d=64\)\) layer 1: trained on hidden_states\[2\] \(output of block 1\) \(layers\.1\) but applied to hidden_states\[1\]/;
    assert.ok(out.warnings.some((w) => warning.test(w)), out.warnings.join('\n'));
    assert.ok(progress.some((p) => p.plan?.includes('layers.1 (folder name)') && p.warnings.some((w) => warning.test(w))), 'the progress carries the plan and the warning');
    const report = readFileSync(out.reportPath, 'utf8');
    assert.match(report, /data-testid="warnings"/);
    const table = await readParquetTable(out.resultsPath);
    assert.equal(table.columns.sae_hookpoint_a![0], 'layers.1 → hidden_states[2]');

    const id = await expectFailure({ ...shifted, strict: true }, /models\.a \(fixture-a \(d=64\)\) layer 1: trained on hidden_states\[2\].*\(strict/);
    const history = await activityAttempts(env.client, id);
    assert.deepEqual(history.attempts, [1], 'validation fails once, non-retryable');
  });
});

describe('pairing methods and metric choices', () => {
  /** A one-layer-pair variant of the demo (A1 ↔ B2; model prep is the demo's, reused). */
  const onePair = (change: (c: SweepConfig) => void) =>
    withChanges(demo, (c) => {
      c.models.a.layers = [1];
      c.models.b.layers = [2];
      c.similarity.permutations = 50;
      change(c);
    });

  async function runOnePair(config: SweepConfig) {
    const { workflowId } = await startSweep(env.client, config);
    const out = await waitForSweep(env.client, workflowId);
    assert.equal(out.layerPairs, 1);
    const table = await readParquetTable(out.resultsPath);
    const full = [...Array(table.numRows).keys()].filter((i) => table.columns.subspace![i] === 'full' && table.columns.null![i] === 'rows');
    const row = (metric: string) => {
      const i = full.find((r) => table.columns.metric![r] === metric);
      assert.ok(i !== undefined, `a ${metric} row`);
      return Object.fromEntries(Object.entries(table.columns).map(([k, v]) => [k, v[i]]));
    };
    const { pairId } = await keptDecoderRows(table.columns.artifact_id![full[0]!] as string, 1, 2);
    return { out, metrics: full.map((i) => table.columns.metric![i] as string), row, pairId, pairing: await readPairing(env.store, pairId), kept: await readKeptPairs(env.store, pairId), map: mapData(out.mapPaths[0]!), html: readFileSync(out.mapPaths[0]!, 'utf8'), report: readFileSync(out.reportPath, 'utf8') };
  }

  test('method hungarian: a one-to-one assignment on the pool, no A or B feature twice, and the map says Hungarian', async () => {
    const r = await runOnePair(onePair((c) => (c.pairing.method = 'hungarian')));
    assert.equal(r.pairing.method, 'hungarian');
    const pool = r.pairing.oneToOne!;
    assert.deepEqual([pool.poolA, pool.poolB], [r.pairing.numFeaturesA, r.pairing.numFeaturesB].map((n) => Math.min(n, demo.pairing.poolSize)));
    // Before any filter the assignment already pairs each feature of the smaller pool exactly once.
    assert.equal(r.pairing.counts.total, Math.min(pool.poolA, pool.poolB));
    assert.equal(r.pairing.counts.uniqueA, r.pairing.counts.total);
    assert.equal(r.pairing.counts.afterOneToOne, r.pairing.counts.afterKeywords, 'one B per A drops nothing');
    assert.ok(r.kept.a.length >= 5, `kept ${r.kept.a.length} pairs`);
    assert.ok(distinct(r.kept.a) && distinct(r.kept.b), 'no A or B feature twice among the kept pairs');
    assert.ok(r.kept.correlation.every((c) => c > demo.pairing.minCorrelation));
    // The assignment finds the planted correspondences: most of them kept, and most kept pairs are
    // planted (the unshared features are assigned too, a few of them above the threshold).
    const h = plantedHits(r.kept);
    assert.ok(h.hits >= 0.75 * h.planted && h.hits >= 0.8 * h.kept, `planted pairs: ${JSON.stringify(h)}`);
    assert.equal(r.map.method, 'hungarian');
    assert.ok(distinct(r.map.pairs.map((p) => p.a)) && distinct(r.map.pairs.map((p) => p.b)), 'map pairs are one-to-one');
    assert.equal(r.map.pairs.length, r.kept.a.length);
    assert.match(r.html, /data-testid="mapping-method" data-method="hungarian">Hungarian/);
    assert.match(r.report, /data-testid="pair-method" data-method="hungarian">Hungarian pairing/);
    assert.match(r.report, /data-tip="assigned \(pool 48×48\): \d+ pairs/);
    assert.deepEqual(r.metrics, demo.similarity.metrics);
    for (const m of r.metrics) assert.ok(Number.isFinite(r.row(m).observed as number) && Number.isFinite(r.row(m).p as number), `${m} scored`);
  });

  test('method ot under compat reference, with mean-corr asked for: Sinkhorn pairs, svcca is the original SVCCA, unequal widths skip mean-corr with the reason', async () => {
    const r = await runOnePair(
      onePair((c) => {
        c.pairing.method = 'ot';
        c.compat = 'reference';
        c.similarity.metrics = ['svcca', 'rsa', 'procrustes', 'mean-corr'];
      }),
    );
    assert.equal(r.pairing.method, 'ot');
    assert.ok((r.pairing.oneToOne!.iterations ?? 0) > 0);
    assert.ok(distinct(r.kept.a) && distinct(r.kept.b), 'the filter chain keeps one B per A');
    // Without the keyword filter (reference) more pairs pass; the planted ones are among them.
    const h = plantedHits(r.kept);
    assert.ok(h.hits >= 0.75 * h.planted, `planted pairs: ${JSON.stringify(h)}`);
    assert.equal(r.map.method, 'ot');
    assert.match(r.html, /data-method="ot">entropic optimal transport/);
    assert.deepEqual(r.metrics, ['svcca', 'rsa', 'procrustes', 'mean-corr'], 'the asked metrics, in registry order');
    const svcca = r.row('svcca');
    assert.equal(svcca.measure, 'svcca-reference');
    // The original's SVCCA keeps one component: |corr| of the first principal components, ≤ 1.
    assert.ok((svcca.observed as number) > 0 && (svcca.observed as number) <= 1);
    const meanCorr = r.row('mean-corr');
    assert.match(meanCorr.skipped as string, /mean-corr matches columns one to one and needs equal decoder widths, got 64 \(A\) and 96 \(B\)/);
    assert.ok(Number.isNaN(meanCorr.observed as number));
    assert.equal(meanCorr.permutations, 0);
    assert.ok(Number.isFinite(r.row('procrustes').observed as number), 'Procrustes pads the narrower side: computed for 64 vs 96');
    assert.deepEqual(Object.keys(r.map.metrics.selection).sort(), ['procrustes', 'rsa', 'svcca']);
  });
});

describe('retrieval and stability (opt-in)', () => {
  test('each layer pair gets retrieval and stability rows with their own nulls and artifacts, on the heat-maps with the table\'s q; the planted features pair alike on both halves', async () => {
    const config = withChanges(demo, (c) => {
      c.retrieval = { enabled: true, trainFraction: 0.5, ridge: 0.01, shuffles: 100, seed: 0, maps: ['procrustes', 'ridge'] };
      c.stability = { enabled: true, permutations: 1000, seed: 0 };
      c.similarity.metrics = ['svcca', 'rsa', 'knn', 'mutual-knn', 'cknna'];
    });
    const out = await waitForSweep(env.client, (await startSweep(env.client, config)).workflowId);
    assert.equal(out.layerPairs, 4);
    const table = await readParquetTable(out.resultsPath);
    const report = readFileSync(out.reportPath, 'utf8');
    const col = (name: string, i: number) => table.columns[name]![i];
    const sds = (i: number) => ((col('observed', i) as number) - (col('null_mean', i) as number)) / (col('null_sd', i) as number);
    // Huh et al.'s mutual k-NN and CKNNA, asked for beside the k-NN Jaccard: the planted pairs stand above their nulls.
    for (const m of ['mutual-knn', 'cknna']) {
      const rows = [...Array(table.numRows).keys()].filter((i) => col('subspace', i) === 'full' && col('metric', i) === m);
      assert.equal(rows.length, 4, m);
      for (const i of rows) assert.ok(sds(i) > 3 && col('null', i) === 'rows', `${m}: ${sds(i)} null sds above`);
      assert.match(report, new RegExp(`data-testid="heatmap-${m}"`));
    }
    // Cross-model retrieval and pairing stability: rows of their own, each against its own null,
    // with its own artifact.
    const measureRows = [...Array(table.numRows).keys()].filter((i) => col('subspace', i) === 'full' && col('null', i) !== 'rows');
    const measureMetrics = [...['procrustes', 'ridge'].flatMap((m) => ['top1', 'top10', 'mrr'].map((st) => `retrieval-${m}-${st}`)), 'stability-partner', 'stability-jaccard'];
    for (const la of demo.models.a.layers) for (const lb of demo.models.b.layers) {
      const rows = measureRows.filter((i) => col('layer_a', i) === la && col('layer_b', i) === lb);
      assert.deepEqual(rows.map((i) => col('metric', i)), measureMetrics, `A${la}/B${lb}: retrieval and stability rows`);
    }
    for (const i of measureRows) {
      const metric = col('metric', i) as string;
      const what = `${metric} A${col('layer_a', i)}/B${col('layer_b', i)}`;
      const retrieval = metric.startsWith('retrieval-');
      assert.equal(col('null', i), retrieval ? 'shuffled-pairs' : 'independence', what);
      assert.match(col('artifact_id', i) as string, retrieval ? /^retrieval-[0-9a-f]{16}$/ : /^stability-[0-9a-f]{16}$/, what);
      assert.equal(col('permutations', i), retrieval ? config.retrieval!.shuffles : config.stability!.permutations, what);
      const observed = col('observed', i) as number, p = col('p', i) as number;
      assert.ok(observed >= 0 && observed <= 1 && p > 0 && p <= 1, `${what}: observed ${observed}, p ${p}`);
      assert.ok((col('n_pairs', i) as number) > 0, `${what}: n_pairs`);
      assert.match(report, new RegExp(`data-testid="heatmap-${metric}"`), `${what}: a heat-map`);
    }
    // The planted features pair alike on both halves of the corpus.
    for (const i of measureRows.filter((r) => col('metric', r) === 'stability-partner')) assert.ok(sds(i) > 3, `stability-partner: ${sds(i)} null sds above`);
    for (const i of measureRows) {
      const cell = new RegExp(`data-testid="cell-${col('metric', i)}-${col('layer_a', i)}-${col('layer_b', i)}"[^>]* data-q="([^"]*)"`).exec(report);
      assert.ok(cell, `report cell of row ${i}`);
      assert.equal(Number(cell[1]), col('q', i), `row ${i}: the report's q is the table's`);
    }
  });
});

describe('decoder pairing', () => {
  const onePair = (change: (c: SweepConfig) => void) =>
    withChanges(demo, (c) => {
      c.models.a.layers = [1];
      c.models.b.layers = [2];
      c.similarity.permutations = 50;
      c.pairing.method = 'decoder';
      change(c);
    });

  test('method decoder on two layers of one model: a one-to-one assignment by decoder cosine pairs each feature with itself, and the pages say so', async () => {
    // B is model A again at its next layer: the fixtures' SAEs of one model share their dictionary.
    const config = onePair((c) => (c.models.b = { ...structuredClone(c.models.a), name: 'fixture-a (next layer)', layers: [2] }));
    const { workflowId } = await startSweep(env.client, config);
    const out = await waitForSweep(env.client, workflowId);
    assert.equal(out.layerPairs, 1);
    assert.equal(out.failed?.length ?? 0, 0);
    const table = await readParquetTable(out.resultsPath);
    const full = [...Array(table.numRows).keys()].filter((i) => table.columns.subspace![i] === 'full' && table.columns.null![i] === 'rows');
    const { pairId } = await keptDecoderRows(table.columns.artifact_id![full[0]!] as string, 1, 2);
    const pairing = await readPairing(env.store, pairId);
    const kept = await readKeptPairs(env.store, pairId);
    assert.equal(pairing.method, 'decoder');
    assert.ok(kept.a.length >= 5, `kept ${kept.a.length} pairs`);
    assert.ok(distinct(kept.a) && distinct(kept.b), 'one-to-one');
    const same = kept.a.filter((a, i) => a === kept.b[i]).length;
    assert.ok(same >= 0.9 * kept.a.length, `${same} of ${kept.a.length} kept pairs are a feature with itself`);
    assert.match(readFileSync(out.reportPath, 'utf8'), /data-testid="pair-method" data-method="decoder">decoder-cosine pairing/);
    assert.match(readFileSync(out.mapPaths[0]!, 'utf8'), /data-method="decoder">decoder cosine/);
  });

  test('method decoder on SAEs of different widths fails the layer pair, naming both SAE files and their widths', async () => {
    const out = await waitForSweep(env.client, (await startSweep(env.client, onePair(() => {}))).workflowId);
    assert.equal(out.failed?.length, 1, JSON.stringify(out.failed));
    const error = out.failed![0]!.error;
    assert.match(error, /pairing\.method "decoder"/);
    assert.match(error, /modelA-sparsify\S*layers\.0\S* \(fixture-a \(d=64\) layer 1\) has d = 64/);
    assert.match(error, /modelB-saelens\S* \(fixture-b \(d=96\) layer 2\) has d = 96/);
  });
});

describe('cancellation', () => {
  test('cancelling during extraction cancels the model-prep children and their activities', async () => {
    // A new extraction (other chunking, the whole corpus) so there is a running activity to cancel.
    const config = withChanges(demo, (c) => {
      c.corpus.numSamples = 0;
      c.chunkTokens = 32;
    });
    const { workflowId } = await startSweep(env.client, config);
    let cursor: { chunk: number; numChunks: number } | undefined;
    for (let i = 0; i < 600 && !cursor; i++) {
      const s = await sweepStatus(env.client, workflowId);
      const extract = s.activities.find((x) => x.activity === 'extract' && x.heartbeat !== undefined);
      cursor = extract?.heartbeat as typeof cursor;
      if (!cursor) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(cursor, 'sweep status shows the extraction heartbeat cursor');
    assert.ok(cursor.numChunks > cursor.chunk);
    await cancelSweep(env.client, workflowId);
    await assert.rejects(waitForSweep(env.client, workflowId));
    const s = await sweepStatus(env.client, workflowId);
    assert.equal(s.status, 'CANCELLED');
    for (const side of ['a', 'b'] as const) {
      const child = await env.client.workflow.getHandle(prepWorkflowId(workflowId, side)).describe();
      assert.ok(['CANCELLED', 'COMPLETED'].includes(child.status.name), `prep ${side}: ${child.status.name}`);
    }
    const a = await env.client.workflow.getHandle(prepWorkflowId(workflowId, 'a')).describe();
    const b = await env.client.workflow.getHandle(prepWorkflowId(workflowId, 'b')).describe();
    assert.ok(a.status.name === 'CANCELLED' || b.status.name === 'CANCELLED', 'at least the extracting child was cancelled');
  });
});

describe('bad input fails the sweep at once, with the message, without retries', () => {
  test('an SAE whose d_in is not the model width: the encode stage fails and commits nothing', async () => {
    const config = withChanges(demo, (c) => (c.models.a.sae = demo.models.b.sae));
    const id = await expectFailure(config, /SAE d_in=96 \(.*modelB-saelens.*\) does not match the model's residual width 64/);
    const history = await activityAttempts(env.client, prepWorkflowId(id, 'a'));
    assert.ok(history.failures.length >= 1 && history.failures.every((f) => f.nonRetryable), JSON.stringify(history.failures));
    assert.ok(history.attempts.every((n) => n === 1), `attempts ${history.attempts}`);

    // The ids the failing stage would have committed: none exists, nor any staging area for it.
    const [modelId, tokenizerId, corpusId] = await Promise.all([sourceId(config.models.a.model), sourceId(config.models.a.tokenizer), sourceId(config.corpus.path)]);
    const tokensId = artifactId(tokenizeSpec({ corpusId, tokenizerId, corpus: config.corpus }));
    const m = config.models.a;
    const extractId = artifactId(extractSpec({ modelId, tokenizerId, tokensId, layers: m.layers, preset: m.preset, batchSize: config.corpus.batchSize, maxLength: config.corpus.maxLength, chunkTokens: config.chunkTokens, keepSpecialPositions: config.corpus.keepSpecialPositions }));
    assert.ok(await env.store.has(extractId), 'the stage before it completed (so the ids below are the right ones)');
    for (const { layer, file } of await resolveLayerSaes({ sae: m.sae, layers: m.layers }, 'trained-tensor')) {
      const saeId = await sourceId(dirname(file));
      const statsId = artifactId(featureStatsSpec({ extractId, saeId, layer, mode: config.pairing.encode }));
      assert.equal(await env.store.has(statsId), false);
      assert.equal(existsSync(env.store.stagingDir(statsId)), false);
    }
  });

  test('a missing model file fails validation, naming the config field and the file', async () => {
    const config = withChanges(demo, (c) => (c.models.a.model = join(fixtures, 'no-such-model.onnx')));
    const id = await expectFailure(config, /demo-sweep\.json: models\.a\.model: .*no-such-model\.onnx: cannot read ONNX model \(ENOENT\)/);
    const history = await activityAttempts(env.client, id);
    assert.deepEqual(history.attempts, [1]);
    assert.equal(history.failures[0]?.nonRetryable, true);
  });

  test('a layer the model does not have fails validation, naming models.b.layers[i]', async () => {
    const config = withChanges(demo, (c) => (c.models.b.layers = [1, 7]));
    await expectFailure(config, /models\.b\.layers\[1\]: layer 7 out of range: .*model-b\.onnx has hidden_states 0\.\.3/);
  });
});
