// The sweep bar's arithmetic: activity weights from validation's estimate, and the weighted work
// done from the sweep's progress, its children's progress and their activities' heartbeats.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ActivityInFlight } from '../cli/sweepClient.ts';
import { measureSweepWork, workOf, type SweepSnapshot } from '../cli/sweepWork.ts';
import { progressPrinter } from '../cli/sweepProgress.ts';
import { layerPairWeights, modelPrepWeights, SWEEP_STAGE_WEIGHTS, type SweepWorkEstimate } from '../pipelines/work/weights.ts';
import type { PartStatus, StageProgress, SweepProgress } from '../workflows/index.ts';

/** Pythia-70m vs Pythia-160m, 500 documents of 128 tokens, 32k-feature SAEs: the three-hour sweep. */
const PYTHIA: SweepWorkEstimate = {
  tokens: 64_000,
  models: { a: { params: 70e6, sourceBytes: 1.5e9 }, b: { params: 160e6, sourceBytes: 3e9 } },
  saes: { a: { '1': { features: 32_768, dIn: 512 }, '2': { features: 32_768, dIn: 512 } }, b: { '1': { features: 32_768, dIn: 768 }, '3': { features: 49_152, dIn: 768 } } },
  permutations: 1000,
  metrics: 5,
  categories: 8,
  mapPoints: 2000,
};

test('weights: the pairing grows with tokens × features², the nulls with permutations, a forward pass with parameters', () => {
  const p = layerPairWeights(PYTHIA, 1, 1);
  const bigger = layerPairWeights(PYTHIA, 1, 3);
  // 1.5× the B features: the correlation's T·nA·nB term dominates, so close to 1.5× the pairing.
  assert.ok(bigger.pairLayer / p.pairLayer > 1.4 && bigger.pairLayer / p.pairLayer < 1.5, `${bigger.pairLayer / p.pairLayer}`);
  // On the real sweep the pairing is the heaviest activity of a pair; a permutation null still weighs more than the map.
  assert.ok(p.pairLayer > p.scoreLayerPair && p.scoreLayerPair > p.renderFeatureMap, JSON.stringify(p));
  const twiceThePermutations = layerPairWeights({ ...PYTHIA, permutations: 2000 }, 1, 1);
  assert.ok(twiceThePermutations.scoreLayerPair > 1.9 * p.scoreLayerPair && twiceThePermutations.pairLayer === p.pairLayer);
  const a = modelPrepWeights(PYTHIA, 'a');
  const b = modelPrepWeights(PYTHIA, 'b');
  assert.ok(b.extract > 2 * a.extract - 1, 'extraction follows the parameter count');
  assert.deepEqual(Object.keys(a.featureStats), ['1', '2']);
  // Tiny inputs: the fixed per-activity cost is what is left.
  const tiny = layerPairWeights({ ...PYTHIA, tokens: 10, saes: { a: { '1': { features: 8, dIn: 4 } }, b: { '1': { features: 8, dIn: 4 } } } }, 1, 1);
  assert.ok(tiny.pairLayer >= 2 && tiny.pairLayer < 2.01);
});

// A 1 × 2 grid whose SAEs are alike: A1↔B1 and A1↔B2 weigh the same.
const GRID: SweepWorkEstimate = { ...PYTHIA, saes: { a: { '1': PYTHIA.saes.a['1']! }, b: { '1': PYTHIA.saes.b['1']!, '2': PYTHIA.saes.b['1']! } } };

function progress(stage: SweepProgress['stage'], prep: PartStatus, pairs: [PartStatus, PartStatus], work: SweepWorkEstimate | null = GRID): SweepProgress {
  return {
    sweepId: 's',
    run: 0,
    stage,
    stagesDone: 0,
    stagesTotal: 7,
    prep: { a: { status: prep, workflowId: 's.prep-a' }, b: { status: prep, workflowId: 's.prep-b' } },
    pairs: pairs.map((status, i) => ({ layerA: 1, layerB: i + 1, status, workflowId: `s.pair-A1-B${i + 1}` })),
    reused: 0,
    produced: 0,
    running: [],
    warnings: [],
    ...(work ? { work } : {}),
  };
}

const hb = (activity: string, heartbeat: unknown, workflowId = 's.pair-A1-B1'): ActivityInFlight => ({ workflowId, activity, attempt: 1, state: 'STARTED', heartbeat });
const stage = (s: string, finished: string[]): StageProgress => ({ stage: s, stagesDone: finished.length, stagesTotal: 4, reused: 0, produced: 0, finished });

test('work done advances with heartbeats inside a stage, weighted by the estimate, and reaches the total only when done', () => {
  const pairW = layerPairWeights(GRID, 1, 1);
  const prepW = [modelPrepWeights(GRID, 'a'), modelPrepWeights(GRID, 'b')];
  const prepTotal = prepW.reduce((s, w) => s + w.registerSources + w.tokenize + w.extract + Object.values(w.featureStats).reduce((x, y) => x + y, 0), 0);
  const pairTotal = pairW.pairLayer + pairW.scoreLayerPair + pairW.analyseSubspaces + pairW.renderFeatureMap;
  const total = SWEEP_STAGE_WEIGHTS.validateSweep + SWEEP_STAGE_WEIGHTS.writeResults + SWEEP_STAGE_WEIGHTS.writeReport + prepTotal + 2 * pairTotal;

  const start = measureSweepWork({ progress: progress('validate', 'pending', ['pending', 'pending']), children: {} });
  assert.equal(start.done, 0);
  assert.ok(Math.abs(start.total - total) < 1e-9 * total);

  // Model prep a: extraction half-way (tokens), registerSources and tokenize finished.
  const prepRunning = (tokensDone: number): SweepSnapshot => ({
    progress: { ...progress('prepare', 'running', ['pending', 'pending']), running: ['s.prep-a'] },
    children: { 's.prep-a': { stage: stage('extract', ['registerSources', 'tokenize']), activities: [hb('extract', { chunk: 3, unit: 'tokens', done: tokensDone, total: 64_000 }, 's.prep-a')] } },
  });
  const e0 = measureSweepWork(prepRunning(0));
  const e1 = measureSweepWork(prepRunning(32_000));
  assert.ok(Math.abs(e1.done - e0.done - prepW[0]!.extract / 2) < 1e-6, 'half the extraction: half its weight');
  assert.equal(e1.detail, 'extract a 32000/64000 tokens');

  // Pair A1↔B1 correlating (block pairs), A1↔B2 done, the other one pending.
  const pairing = (blockPairs: number): SweepSnapshot => ({
    progress: { ...progress('pairs', 'done', ['running', 'done']), running: ['s.pair-A1-B1'] },
    children: { 's.pair-A1-B1': { stage: stage('pair', []), activities: [hb('pairLayer', { unit: 'block pairs', done: blockPairs, total: 64 })] } },
  });
  const series = [0, 16, 32, 48, 64].map((n) => measureSweepWork(pairing(n)).done);
  for (let i = 1; i < series.length; i++) assert.ok(series[i]! > series[i - 1]!, `advances with block pairs: ${series.join(', ')}`);
  assert.ok(Math.abs(series[4]! - series[0]! - pairW.pairLayer) < 1e-6);
  const baseline = SWEEP_STAGE_WEIGHTS.validateSweep + prepTotal + pairTotal;
  assert.ok(Math.abs(series[0]! - baseline) < 1e-6 * total, 'validate, both preps and the finished pair');

  // Scores and subspaces at once: permutations and categories.
  const nulls = measureSweepWork({
    progress: { ...progress('pairs', 'done', ['running', 'done']), running: ['s.pair-A1-B1'] },
    children: {
      's.pair-A1-B1': {
        stage: stage('similarity+subspaces', ['pairLayer']),
        activities: [hb('scoreLayerPair', { metric: 'rsa', unit: 'permutations', done: 2500, total: 5000 }), hb('analyseSubspaces', { unit: 'categories', done: 2, total: 8 })],
      },
    },
  });
  assert.ok(Math.abs(nulls.done - (baseline + pairW.pairLayer + pairW.scoreLayerPair / 2 + pairW.analyseSubspaces / 4)) < 1e-6 * total);
  assert.match(nulls.detail!, /^(scoreLayerPair A1↔B1 2500\/5000 permutations|analyseSubspaces A1↔B1 2\/8 categories)$/);

  // A failed pair does no more work: it counts as finished; the report still has to be written.
  const failed = measureSweepWork({ progress: progress('report', 'done', ['failed', 'done']), children: {} });
  assert.ok(Math.abs(failed.done - (total - SWEEP_STAGE_WEIGHTS.writeReport)) < 1e-6 * total);
  assert.equal(measureSweepWork({ progress: progress('done', 'done', ['done', 'done']), children: {} }).done, start.total);
});

test('without an estimate (before validation, or older code) every activity weighs one; old children by their stage', () => {
  const s = measureSweepWork({
    progress: { ...progress('pairs', 'done', ['running', 'pending'], null), running: ['s.pair-A1-B1'] },
    // A child of older code: no `finished`, its stage says pairLayer is done.
    children: { 's.pair-A1-B1': { stage: { stage: 'featureMap', stagesDone: 3, stagesTotal: 4, reused: 0, produced: 0 }, activities: [] } },
  });
  // 3 sweep stages + 2 × (3 + 1 layer of featureStats a / 2 of b) + 2 pairs × 4.
  assert.equal(s.total, 3 + (4 + 5) + 8);
  assert.equal(s.done, 1 + 9 + 3);
  assert.equal(workOf({ blockPairs: 3, total: 4 }), undefined, 'an older heartbeat without a unit counts nothing');
});

test('the printer: one bar for the whole sweep, plan and warnings above it, percentages that never go back', () => {
  let t = 0;
  const chunks: string[] = [];
  const printer = progressPrinter({ isTTY: false, write: (x: string) => chunks.push(x) }, { now: () => t, plainEveryMs: 0 });
  const snaps: SweepSnapshot[] = [
    { progress: progress('validate', 'pending', ['pending', 'pending'], null), children: {} },
    { progress: { ...progress('prepare', 'running', ['pending', 'pending']), plan: 'THE PLAN' }, children: {} },
    { progress: { ...progress('pairs', 'done', ['running', 'pending']), running: ['s.pair-A1-B1'], warnings: ['fit'] }, children: { 's.pair-A1-B1': { stage: stage('pair', []), activities: [hb('pairLayer', { unit: 'block pairs', done: 10, total: 64 })] } } },
    { progress: { ...progress('pairs', 'done', ['running', 'pending']), running: ['s.pair-A1-B1'] }, children: { 's.pair-A1-B1': { stage: stage('pair', []), activities: [hb('pairLayer', { unit: 'block pairs', done: 40, total: 64 })] } } },
    { progress: progress('done', 'done', ['done', 'done']), children: {} },
  ];
  for (const s of snaps) {
    t += 10_000;
    printer.onProgress(s.progress, s);
  }
  printer.done();
  const out = chunks.join('');
  assert.ok(out.indexOf('THE PLAN') < out.indexOf('sweep pairs'), out);
  assert.match(out, /^warning: fit$/m);
  const pcts = [...out.matchAll(/: (\d+)% /g)].map((m) => Number(m[1]));
  assert.ok(pcts.length >= 4, out);
  for (let i = 1; i < pcts.length; i++) assert.ok(pcts[i]! >= pcts[i - 1]!, `monotone: ${pcts.join(', ')}`);
  assert.match(out, /pairLayer A1↔B1 40\/64 block pairs/);
  assert.doesNotMatch(out, /ETA 0s/);
  assert.match(out, /sweep done \(pairs 2\/2\): 100% done in 40s/);
});
