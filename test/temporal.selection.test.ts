// The selection-aware null through the real sweep (dev server, worker, store): one layer pair of
// the demo with `similarity.null: ["rows", "selection"]` runs one pairing per document shift (each
// its own `pair-shift` artifact), scores them in a `selection-null` artifact, and the results
// table, the report and `ufg lineage` show it; a second start reuses every shift.
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

test('selection null: one pair-shift artifact per shift, rows with null "selection" in the results, the report and the lineage', async () => {
  const config = structuredClone(demo);
  config.models.a.layers = [1];
  config.models.b.layers = [2];
  config.similarity.permutations = 50;
  config.similarity.null = ['rows', 'selection'];
  config.similarity.selectionShifts = SHIFTS;
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

  const table = await readParquetTable(out.resultsPath);
  const c = table.columns;
  const rows = [...Array(table.numRows).keys()];
  const selRows = rows.filter((i) => c.null![i] === 'selection');
  assert.equal(selRows.length, config.similarity.metrics.length);
  assert.ok(rows.filter((i) => c.subspace![i] === 'full' && c.null![i] === 'rows').length === config.similarity.metrics.length);
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
