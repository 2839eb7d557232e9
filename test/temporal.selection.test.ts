// The selection-aware null through the real sweep (dev server, worker, store): one layer pair of
// the demo with `similarity.null: ["rows", "selection"]` runs one pairing per document shift (each
// its own `pair-shift` artifact), scores them in a `selection-null` artifact, and the results
// table, the report and `ufg lineage` show it; a second start reuses every shift. And the layer
// correspondence (`similarity.bootstrap`): a bootstrap artifact per pair, one correspondence
// artifact, its rows and its curve.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { readPairing } from '../activities/layerData.ts';
import { readSelection } from '../activities/selection.ts';
import { startSweep, waitForSweep } from '../cli/sweepClient.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import { lineageTree, type LineageNode } from '../storage/lineage.ts';
import { readParquetTable } from '../storage/parquet.ts';
import { demoSweepSuite, type SweepTestEnv } from './temporal.env.ts';

let env: SweepTestEnv;
let demo: SweepConfig;
demoSweepSuite((s) => ({ env, demo } = s));

const SHIFTS = 3;

function ids(node: LineageNode): string[] {
  return [node.id, ...node.inputs.flatMap(ids)];
}

test('selection null: one pair-shift artifact per shift, rows with null "selection" in the results, the report and the lineage', async (t) => {
  const config = structuredClone(demo);
  config.models.a.layers = [1];
  config.models.b.layers = [2];
  config.similarity.permutations = 50;
  config.similarity.null = ['rows', 'selection'];
  config.similarity.selectionShifts = SHIFTS;
  // Under the described filters the demo's shifts keep 0–1 pairs (chance pairs rarely share a top
  // token), too few to score; the original's chain (no keyword filter) with any positive
  // correlation keeps enough of them to score, so both branches of the row are exercised here.
  config.compat = 'reference';
  config.pairing.minCorrelation = 0;
  const { workflowId } = await startSweep(env.client, config);
  const out = await waitForSweep(env.client, workflowId);
  const pair = out.pairs[0]!;
  assert.match(pair.selectionId ?? '', /^selection-null-[0-9a-f]{16}$/);

  const sel = await readSelection(env.store, pair.selectionId!);
  assert.deepEqual(sel.shifts.map((s) => s.shift), [1, 2, 3]);
  const pairing = await readPairing(env.store, pair.pairId);
  assert.equal(sel.n, pairing.counts.afterLowCorrelation);
  for (const s of sel.shifts) {
    assert.match(s.pairId, /^pair-shift-[0-9a-f]{16}$/);
    const shifted = await readPairing(env.store, s.pairId);
    assert.equal(shifted.counts.afterLowCorrelation, s.pairs);
    // Shifting documents destroys the token correspondence: the planted pairs are gone.
    assert.ok(s.pairs < sel.n, `shift ${s.shift} kept ${s.pairs} of ${sel.n}`);
    assert.ok(shifted.numTokens < pairing.numTokens, 'documents cut to the shorter of each aligned two');
  }
  assert.deepEqual(sel.scores.map((s) => s.metric), config.similarity.metrics);
  for (const s of sel.scores) {
    t.diagnostic(`${s.metric}: ${'skipped' in s ? `skipped: ${s.skipped}` : `observed ${s.observed.toFixed(3)}, shifts ${s.nullMean.toFixed(3)} ± ${s.nullSd.toFixed(3)}, effect ${s.effect?.toFixed(1)}, p ${s.p.toPrecision(2)}`} (pairs ${sel.n}; per shift ${sel.shifts.map((x) => x.pairs).join(',')})`);
  }

  const table = await readParquetTable(out.resultsPath);
  const c = table.columns;
  const rows = [...Array(table.numRows).keys()];
  const selRows = rows.filter((i) => c.null![i] === 'selection');
  assert.equal(selRows.length, config.similarity.metrics.length);
  assert.ok(rows.filter((i) => c.subspace![i] === 'full' && c.null![i] === 'rows').length === config.similarity.metrics.length);
  assert.ok(selRows.some((i) => Number.isFinite(c.p![i] as number)), 'some metric scored against the shifts');
  for (const i of selRows) {
    assert.equal(c.artifact_id![i], pair.selectionId);
    assert.equal(c.shift_pairs![i], sel.shifts.map((s) => s.pairs).join(','));
    const s = sel.scores.find((x) => x.metric === c.metric![i])!;
    if ('skipped' in s) assert.equal(c.skipped![i], s.skipped);
    else {
      assert.equal(c.p![i], s.p);
      assert.equal(c.permutations![i], s.shiftScores.filter((v) => v !== null).length);
      assert.ok(Number.isFinite(c.q![i] as number), 'selection p joins the sweep-wide q');
    }
  }
  const report = readFileSync(out.reportPath, 'utf8');
  assert.match(report, /data-testid="selection-table"/);
  assert.ok(report.includes(pair.selectionId!), 'the report links the selection-null artifact');
  for (const s of sel.shifts) assert.match(report, new RegExp(`data-testid="selection-shift" data-shift="${s.shift}" data-pairs="${s.pairs}"`));

  const lineage = ids(await lineageTree(env.store, pair.selectionId!));
  for (const s of sel.shifts) assert.ok(lineage.includes(s.pairId), `lineage reaches ${s.pairId}`);
  assert.ok(lineage.includes(pair.pairId));

  // Again: every shift, the scoring and the rest are found, none recomputed.
  const again = await waitForSweep(env.client, (await startSweep(env.client, config)).workflowId);
  assert.equal(again.pairs[0]!.selectionId, pair.selectionId);
  assert.equal(again.produced, 0);
  assert.equal(again.resultsId, out.resultsId);
});

test('layer correspondence: a bootstrap per pair, a correspondence artifact, its rows in the results and its curve in the report', async () => {
  const config = structuredClone(demo);
  config.models.a.layers = [1];
  config.models.b.layers = [1, 2];
  config.similarity.permutations = 50;
  config.similarity.bootstrap = 20;
  const { workflowId } = await startSweep(env.client, config);
  const out = await waitForSweep(env.client, workflowId);
  for (const p of out.pairs) assert.match(p.bootstrapId ?? '', /^bootstrap-[0-9a-f]{16}$/);
  const table = await readParquetTable(out.resultsPath);
  const c = table.columns;
  const rows = [...Array(table.numRows).keys()];
  const corr = rows.filter((i) => (c.metric![i] as string).startsWith('correspondence-'));
  assert.ok(corr.length >= 2, `${corr.length} correspondence rows`);
  for (const i of corr) {
    const metric = (c.metric![i] as string).slice('correspondence-'.length);
    assert.equal(c.layer_a![i], 1);
    // layer_b is the B layer whose own row has the largest (similarity-signed) effect.
    const own = rows.filter((j) => c.subspace![j] === 'full' && c.metric![j] === metric && c.null![j] === 'rows');
    const sign = c.larger_is_more_similar![i] ? 1 : -1;
    const best = own.reduce((b, j) => ((sign * (c.effect![j] as number)) > sign * (c.effect![b] as number) ? j : b));
    assert.equal(c.layer_b![i], c.layer_b![best]);
    assert.equal(c.effect![i], c.effect![best]);
    assert.ok(Number.isNaN(c.p![i] as number) && Number.isNaN(c.q![i] as number), 'no p of its own: its pair is already tested');
    const [lo, hi] = [c.effect_ci_low![i] as number, c.effect_ci_high![i] as number];
    assert.ok(lo <= hi && Number.isFinite(lo), `interval ${lo}..${hi}`);
    assert.ok([1, 2].includes(c.layer_b_ci_low![i] as number) && [1, 2].includes(c.layer_b_ci_high![i] as number));
    assert.ok((c.best_share![i] as number) > 0 && (c.best_share![i] as number) <= 1);
    assert.match(c.artifact_id![i] as string, /^correspondence-[0-9a-f]{16}$/);
  }
  const id = c.artifact_id![corr[0]!] as string;
  const lineage = ids(await lineageTree(env.store, id));
  for (const p of out.pairs) assert.ok(lineage.includes(p.bootstrapId!) && lineage.includes(p.scoresId));
  const report = readFileSync(out.reportPath, 'utf8');
  assert.match(report, /data-testid="correspondence"/);
  assert.match(report, /data-testid="correspondence-point" data-layer-a="1" data-layer-b="[12]"/);
  assert.match(report, /data-testid="correspondence-row" data-metric="svcca" data-layer-a="1"/);
  assert.ok(report.includes(id), 'the report links the correspondence artifact');
});
