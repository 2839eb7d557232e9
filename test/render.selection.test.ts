// The report's selection-null table and layer-correspondence curve, from SweepReportData: every
// number with its artifact id, the band drawn from the chosen layer's interval, and validation of
// the new fields for `ufg report --from-json`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { renderSweepReportHtml } from '../pipelines/render/sweepPage.ts';
import type { SweepCell, SweepReportData, SweepScore } from '../pipelines/render/types.ts';
import { validateSweepReport } from '../pipelines/render/validate.ts';

const score = (observed: number, artifactId: string, extra: Partial<SweepScore> = {}): SweepScore => ({ observed, nullMean: 0.1, nullSd: 0.05, effect: (observed - 0.1) / 0.05, p: 0.001, artifactId, ...extra });

function cell(layerA: number, layerB: number, withSelection: boolean): SweepCell {
  return {
    layerA,
    layerB,
    svcca: score(0.6, 'similarity-1'),
    rsa: score(0.4, 'similarity-1'),
    subspaces: [],
    counts: [0, 1, 2, 3, 4].map((k) => ({ stage: `stage ${k}`, count: 100 - k })),
    artifactId: 'similarity-1',
    ...(withSelection
      ? {
          selection: {
            scores: { svcca: score(0.6, 'selection-null-9', { nullMean: 0.3, nullSd: 0.1, effect: 3, p: 0.0042, q: 0.01 }) },
            skipped: { rsa: '1 of 3 document shifts kept enough pairs to score rsa' },
            shifts: [1, 2, 3].map((s) => ({ shift: s, pairs: 10 + s, artifactId: `pair-shift-${s}` })),
            artifactId: 'selection-null-9',
          },
        }
      : {}),
  };
}

const data: SweepReportData = {
  kind: 'ufg.sweepReport',
  version: 1,
  modelA: 'A',
  modelB: 'B',
  layersA: [0, 1, 2],
  layersB: [0, 1, 2, 3],
  cells: [cell(0, 0, true), cell(1, 2, false)],
  correspondence: {
    level: 0.95,
    artifactId: 'correspondence-7',
    metrics: [
      {
        metric: 'svcca',
        rows: [
          { layerA: 0, bestB: 0, effect: 12, effectLow: 10, effectHigh: 14, bestBLow: 0, bestBHigh: 1, bestShare: 0.8 },
          { layerA: 1, bestB: 2, effect: 9, effectLow: 7.5, effectHigh: 10.5, bestBLow: 2, bestBHigh: 2, bestShare: 1 },
          { layerA: 2, bestB: 3, effect: 4, effectLow: null, effectHigh: null, bestBLow: 1, bestBHigh: 3, bestShare: 0.4 },
        ],
      },
    ],
  },
};

test('a pair card shows its scores against the selection null, the skipped ones with why, and the pairs each shift kept', () => {
  const html = renderSweepReportHtml(data);
  assert.equal((html.match(/data-testid="selection-table"/g) ?? []).length, 1, 'only the pair with a selection null has the table');
  assert.match(html, /data-testid="selection-row" data-metric="svcca"><td>SVCCA<\/td><td class="num">0\.600<\/td><td class="num">0\.300 ± 0\.100<\/td><td class="num">\+3\.0<\/td><td class="num">0\.004<\/td><td class="num">0\.010<\/td><td class="mono lineage">selection-null-9<\/td>/);
  assert.match(html, /data-testid="selection-skip" data-metric="rsa"><td>RSA<\/td><td colspan="6" class="muted">1 of 3 document shifts/);
  // The tooltip holds a newline (escapeHtml leaves it as is: attribute values may span lines).
  for (const s of [1, 2, 3]) assert.ok(html.includes(`data-testid="selection-shift" data-shift="${s}" data-pairs="${10 + s}" data-tip="shift ${s}: ${10 + s} pairs kept\nartifact pair-shift-${s}"`), `shift ${s}`);
});

test('the layer correspondence: one point per layer of A at its best B layer, the band from the interval, the table with artifact ids', () => {
  const html = renderSweepReportHtml(data);
  const points = [...html.matchAll(/data-testid="correspondence-point" data-layer-a="(\d)" data-layer-b="(\d)"/g)].map((m) => [Number(m[1]), Number(m[2])]);
  assert.deepEqual(points, [[0, 0], [1, 2], [2, 3]]);
  const band = /data-testid="correspondence-band" points="([^"]+)"/.exec(html);
  assert.ok(band, 'a band');
  // Three lower ends then three upper ends, back along the curve: y of B layers (0, 2, 1) then (3, 2, 1).
  const ys = band[1]!.split(' ').map((p) => Number(p.split(',')[1]));
  const yOf = (lb: number) => 14 + lb * 26 + 13;
  assert.deepEqual(ys, [yOf(0), yOf(2), yOf(1), yOf(3), yOf(2), yOf(1)]);
  assert.match(html, /data-testid="correspondence-row" data-metric="svcca" data-layer-a="2" data-layer-b="3"><td>2<\/td><td>3<\/td><td class="num">1–3<\/td><td class="num">40%<\/td><td class="num">\+4\.0<\/td><td class="num">\[–, –\]<\/td><td class="mono lineage">correspondence-7<\/td>/);
  assert.equal((html.match(/data-testid="correspondence-row"/g) ?? []).length, 3);
});

test('validation reads the new fields back and names a bad one', () => {
  const back = validateSweepReport(JSON.parse(JSON.stringify(data)), 'report.json');
  assert.deepEqual(back.correspondence, data.correspondence);
  const bad = structuredClone(data) as unknown as { correspondence: { metrics: { rows: { bestB: unknown }[] }[] } };
  bad.correspondence.metrics[0]!.rows[1]!.bestB = 'two';
  assert.throws(() => validateSweepReport(bad, 'report.json'), /correspondence\.metrics\[0\]\.rows\[1\]\.bestB/);
  const badSel = structuredClone(data) as unknown as { cells: { selection?: { scores: Record<string, unknown> } }[] };
  badSel.cells[0]!.selection!.scores.svcca = { observed: 'x' };
  assert.throws(() => validateSweepReport(badSel, 'report.json'), /cells\[0\]\.selection\.scores\.svcca/);
});
