// A three-model sweep with both controls, end to end: the README's example on generated fixtures
// (demoThreeModelConfig), run on a real Temporal dev server and worker, then its report opened in
// Chromium. Every model pair is compared over its layer grid, every model is prepared once (its
// tokenization and extraction shared by all its model pairs, the ceiling sharing its source
// model's), the floor is a random-init artifact of its model, and the report's model × model
// summary shows each pair's best layer-pair effect with the controls as reference lines.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, dirname } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { ensureDemoFixtures } from '../../cli/commands/demo.ts';
import { resumeSweep, startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import { demoThreeModelConfig, type SweepConfig } from '../../pipelines/config.ts';
import { renderSweepReportHtml } from '../../pipelines/render/sweepPage.ts';
import { sweepSummary } from '../../pipelines/render/summary.ts';
import type { SweepReportData } from '../../pipelines/render/types.ts';
import { validateSweepReport } from '../../pipelines/render/validate.ts';
import { benjaminiHochberg } from '../../pipelines/similarity/multipleTesting.ts';
import { readParquetTable } from '../../storage/parquet.ts';
import { hashSourcePath, sourceSpec } from '../../storage/sources.ts';
import { artifactId } from '../../storage/artifactId.ts';
import type { SweepOutcome } from '../../workflows/index.ts';
import { startSweepTestEnv, type SweepTestEnv } from '../temporal.env.ts';
import { launchChromium, openOffline, screenshot, SCREENSHOT_DIR } from './chromium.ts';

let env: SweepTestEnv;
let config: SweepConfig;
let outcome: SweepOutcome;
let browser: Browser;

const MODEL_PAIRS = ['a|b', 'a|c', 'b|c', 'a|a~ceiling', 'a|a~floor'];

before(async () => {
  const fixtures = await ensureDemoFixtures();
  env = await startSweepTestEnv();
  config = demoThreeModelConfig(fixtures, join(env.dir, 'out'));
  const { workflowId } = await startSweep(env.client, config);
  outcome = await waitForSweep(env.client, workflowId);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await env?.stop();
});

async function stageCount(stage: string): Promise<number> {
  let n = 0;
  for (const id of await env.store.list()) if ((await env.store.manifest(id))?.stage === stage) n++;
  return n;
}

test('every model pair runs over its layer grid; each model is prepared once and shared by its pairs', async () => {
  assert.deepEqual(outcome.failed, []);
  // a×b 1×2, a×c 1×1, b×c 2×1, and each control against a: 1×1.
  assert.equal(outcome.layerPairs, 7);
  assert.deepEqual([...new Set(outcome.pairs.map((p) => `${p.models!.a}|${p.models!.b}`))], MODEL_PAIRS);
  const history = await env.client.workflow.getHandle(outcome.sweepId).fetchHistory();
  const children = (history.events ?? []).flatMap((e) => e.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
  const preps = children.filter((id) => id.includes('.prep-')).map((id) => id.split('.prep-')[1]);
  assert.deepEqual(preps.sort(), ['a', 'a~ceiling', 'a~floor', 'b', 'c'], 'one model prep per model');
  assert.ok(children.includes(`${outcome.sweepId}.pair-a@1-b@2`), 'N-model pair workflows name both models');
  // One corpus and one tokenizer: one tokenization for all five models. The ceiling is model a's
  // file and layers through other SAEs, so it reuses a's extraction: four extractions, not five.
  assert.equal(await stageCount('tokenize'), 1);
  assert.equal(await stageCount('extract'), 4);
  assert.equal(await stageCount('random-init'), 1);
  // Every pair on model a's side reads the same extraction.
  const extractOfA = new Set<string>();
  for (const p of outcome.pairs.filter((x) => x.models!.a === 'a')) extractOfA.add((await env.store.manifest(p.pairId))!.inputs[0]!);
  assert.equal(extractOfA.size, 1);
});

test("the floor is a random-init artifact of its model's file, read through the model's own SAEs", async () => {
  const note = outcome.warnings.find((w) => w.startsWith('controls.floor:'));
  assert.ok(note, 'the sweep says what the floor is');
  const id = /artifact (\S+)\)/.exec(note)![1]!;
  const m = (await env.store.manifest(id))!;
  assert.equal(m.stage, 'random-init');
  assert.deepEqual(m.inputs, [artifactId(sourceSpec(await hashSourcePath(config.models.a!.model, env.store.cacheDir)))]);
  const floorPair = outcome.pairs.find((p) => p.models!.b === 'a~floor')!;
  const pairing = (await env.store.manifest(floorPair.pairId))!;
  const floorExtract = (await env.store.manifest(pairing.inputs[1]!))!;
  assert.equal(floorExtract.stage, 'extract');
  assert.equal(floorExtract.inputs[0], id, "the floor's extraction ran the random-init model");
  assert.equal(pairing.inputs[2] === pairing.inputs[3], true, "both sides read model a's SAE of layer 1");
});

test('results: one row per model pair, layers, subspace and metric, with model_a, model_b, control and null; q over the whole sweep', async () => {
  const t = await readParquetTable(outcome.resultsPath);
  const c = t.columns;
  const keys = new Set<string>();
  for (let i = 0; i < t.numRows; i++) {
    keys.add(`${c.model_a![i]}|${c.model_b![i]}`);
    assert.equal(c.null![i], 'rows');
    assert.equal(c.control![i], String(c.model_b![i]).includes('~') ? String(c.model_b![i]).split('~')[1] : '');
  }
  assert.deepEqual([...keys], MODEL_PAIRS);
  const seen = new Set<string>();
  for (let i = 0; i < t.numRows; i++) {
    const k = `${c.model_a![i]}|${c.model_b![i]}|${c.layer_a![i]}|${c.layer_b![i]}|${c.subspace![i]}|${c.metric![i]}`;
    assert.ok(!seen.has(k), `row ${k} is unique`);
    seen.add(k);
  }
  const q = benjaminiHochberg(Array.from({ length: t.numRows }, (_, i) => c.p![i] as number));
  q.forEach((v, i) => (Number.isNaN(v) ? assert.ok(Number.isNaN(c.q![i] as number)) : assert.ok(Math.abs(v - (c.q![i] as number)) < 1e-12)));
});

test('the report in Chromium: model × model summary with the controls as reference lines, then one section per model pair', async () => {
  const reportDir = dirname(outcome.reportPath);
  const data = JSON.parse(new TextDecoder().decode(await env.store.readFile(outcome.reportId, 'report.json'))) as SweepReportData;
  const summary = data.summary!;
  const entry = (a: string, b: string, metric: string) => summary.find((e) => e.a === a && e.b === b && e.metric === metric)!;
  const best = (a: string, b: string, metric: string) => entry(a, b, metric).best!;
  // Tiny fixtures leave few pairs, so a metric can be saturated (or without null spread) in every
  // cell of a model pair: then the pair has no best and its summary cell says so.
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  await writeFile(join(SCREENSHOT_DIR, 'n-model-sweep-report.json'), JSON.stringify(data, null, 1));
  let compared = 0;
  const o = await openOffline(browser, outcome.reportPath);
  const { page } = o;
  assert.ok(await page.isVisible('[data-testid="summary"]'));
  // The summary sits above the per-pair heat-maps.
  const [ys, yh] = await page.$$eval('[data-testid="summary"], [data-testid="model-pair"]', (els) => [els[0]!.getBoundingClientRect().top, els[1]!.getBoundingClientRect().top]);
  assert.ok(ys! < yh!);
  for (const metric of ['svcca', 'rsa']) {
    for (const [a, b] of [['a', 'b'], ['a', 'c'], ['b', 'c']] as const) {
      const section = data.modelPairs!.find((s) => s.a === a && s.b === b)!;
      const effects = section.cells.flatMap((cell) => {
        const sc = cell.scores![metric]!;
        return sc.saturated || sc.effect === undefined ? [] : [sc.effect];
      });
      if (!entry(a, b, metric).best) {
        assert.deepEqual(effects, [], `${a}×${b} ${metric}: no best only when no cell has an effect`);
        assert.equal(await page.getAttribute(`[data-testid="summary-cell-${metric}-${a}-${b}"]`, 'data-missing'), '1');
        continue;
      }
      compared++;
      const e = best(a, b, metric);
      for (const [x, y] of [[a, b], [b, a]]) {
        const sel = `[data-testid="summary-cell-${metric}-${x}-${y}"]`;
        assert.equal(Number(await page.getAttribute(sel, 'data-effect')), e.score.effect, `${sel}: the pair's best effect, either way round`);
        assert.equal(await page.getAttribute(sel, 'data-artifact'), e.score.artifactId);
      }
      // It is the best of the pair's cells.
      assert.equal(e.score.effect, Math.max(...effects));
    }
    assert.equal(await page.getAttribute(`[data-testid="summary-cell-${metric}-a-a"]`, 'data-diagonal'), '1');
    for (const kind of ['ceiling', 'floor'] as const) {
      if (!entry('a', `a~${kind}`, metric).best) {
        assert.equal(await page.$(`[data-testid="ref-line-${metric}-${kind}"]`), null, 'no reference line without a best effect');
        continue;
      }
      const ref = best('a', `a~${kind}`, metric);
      const line = `[data-testid="summary-${metric}"] [data-testid="ref-line-${metric}-${kind}"]`;
      assert.equal(Number(await page.getAttribute(line, 'data-effect')), ref.score.effect);
      assert.equal(await page.getAttribute(line, 'data-artifact'), ref.score.artifactId);
      assert.equal(Number(await page.getAttribute(`[data-testid="summary-control-${metric}-${kind}"]`, 'data-effect')), ref.score.effect);
    }
  }
  assert.ok(compared >= 3, `most model pairs have a best effect (${compared} of 6)`);
  // The ceiling (model a through other SAEs) is more alike than a and the distinct model b.
  assert.ok(best('a', 'a~ceiling', 'rsa').score.effect! > best('a', 'b', 'rsa').score.effect!, 'RSA: the ceiling is above a × b');
  // The floor: a's SAEs on the random-init copy's activations leave no feature correlated above
  // pairing.minCorrelation with a's, so nothing is scored; the summary says so instead of a line.
  const floor = data.modelPairs!.find((x) => x.control === 'floor')!;
  assert.deepEqual(floor.cells, []);
  assert.match(floor.unscored![0]!.error, /^\d+ pairs after the filters; svcca: /);
  assert.match(entry('a', 'a~floor', 'rsa').note!, /^no layer pair scored: \d+ pairs after the filters/);
  assert.match((await page.textContent('[data-testid="summary-control-rsa-floor"]'))!, /no layer pair scored/);
  assert.equal(await page.$('[data-testid="ref-line-rsa-floor"]'), null);
  const shown = (['b', 'c'] as const).find((b) => entry('a', b, 'rsa').best)!;
  await page.hover(`[data-testid="summary-cell-rsa-a-${shown}"]`);
  const tip = (await page.textContent('[data-testid="tooltip"]'))!;
  assert.ok(tip.includes(`artifact ${best('a', shown, 'rsa').score.artifactId}`));

  const sections = await page.$$eval('[data-testid="model-pair"]', (els) => els.map((e) => [e.getAttribute('data-a'), e.getAttribute('data-b'), e.getAttribute('data-control')]));
  assert.deepEqual(sections, [['a', 'b', null], ['a', 'c', null], ['b', 'c', null], ['a', 'a~ceiling', 'ceiling'], ['a', 'a~floor', 'floor']]);
  // Per-pair heat-maps: b×c has 2×1 cells; every effect legend ticks both controls.
  const bc = '[data-testid="model-pair"][data-a="b"][data-b="c"]';
  assert.equal((await page.$$(`${bc} [data-testid="heatmap-svcca"] [data-testid^="cell-svcca-"]`)).length, 2);
  // …one tick per control and metric that has a best effect (on fixtures: the ceiling's).
  const refs = summary.filter((e) => e.control && e.best).length;
  assert.ok(refs >= 2);
  assert.equal((await page.$$(`${bc} [data-testid^="legend-ref-"]`)).length, refs);
  // Every card's feature-map link is a published page.
  const links = await page.$$eval('[data-testid="feature-map-link"]', (as) => as.map((a) => a.getAttribute('href')!));
  // One card per scored layer pair (the floor's is unscored); every pair's page is published.
  assert.equal(links.length, outcome.layerPairs - floor.unscored!.length);
  for (const href of links) assert.ok(existsSync(join(reportDir, href)), `${href} is published`);
  assert.equal(new Set(links).size, links.length);
  assert.equal(outcome.mapPaths.length, 7);
  assert.ok(outcome.mapPaths.every((m) => existsSync(m)));
  assert.ok(outcome.mapPaths.some((m) => m.endsWith(join('maps', 'a_vs_a~floor', 'A1_B1.html'))));
  await screenshot(page, 'n-model-sweep-report');
  assert.deepEqual(o.blocked, []);
  assert.deepEqual(o.errors, []);
  // The page is its data: `ufg report --from-json report.json` accepts it and draws the same page.
  assert.equal(renderSweepReportHtml(validateSweepReport(data, 'report.json')), readFileSync(outcome.reportPath, 'utf8'));
  await page.context().close();
});

test('reference lines: with both controls scored, the summary bars and every effect legend mark the ceiling and the floor; a failed pair shows in its section', async () => {
  const data = JSON.parse(new TextDecoder().decode(await env.store.readFile(outcome.reportId, 'report.json'))) as SweepReportData;
  // Drawing only: give the floor section the ceiling's cell with its RSA effect lowered, and
  // summarise again (what the page draws is a function of the data alone).
  // And a failed layer pair in b × c (a partial N-model sweep draws it in its own section).
  const sections = data.modelPairs!.map((sec) => {
    if (sec.a === 'b' && sec.b === 'c') return { ...sec, cells: sec.cells.filter((c) => c.layerA !== 2), failed: [{ layerA: 2, layerB: 1, error: 'pairLayer: injected for the test' }] };
    if (sec.control !== 'floor') return sec;
    const cell = structuredClone(data.modelPairs!.find((x) => x.control === 'ceiling')!.cells[0]!);
    cell.scores!.rsa = { ...cell.scores!.rsa!, effect: 1.5, artifactId: 'floor-rsa-artifact' };
    cell.rsa = cell.scores!.rsa;
    return { ...sec, cells: [cell], unscored: [] };
  });
  const drawn = { ...data, modelPairs: sections, summary: sweepSummary(sections, data.metrics!) };
  const file = join(env.dir, 'reference-lines.html');
  await writeFile(file, renderSweepReportHtml(drawn));
  const o = await openOffline(browser, file);
  const ceiling = drawn.summary.find((e) => e.control === 'ceiling' && e.metric === 'rsa')!.best!.score.effect!;
  const x = async (sel: string) => Number(await o.page.$eval(`${sel} line`, (l) => l.getAttribute('x1')));
  assert.equal(Number(await o.page.getAttribute('[data-testid="ref-line-rsa-floor"]', 'data-effect')), 1.5);
  assert.equal(await o.page.getAttribute('[data-testid="ref-line-rsa-floor"]', 'data-artifact'), 'floor-rsa-artifact');
  assert.equal(Number(await o.page.getAttribute('[data-testid="ref-line-rsa-ceiling"]', 'data-effect')), ceiling);
  assert.ok((await x('[data-testid="ref-line-rsa-floor"]')) < (await x('[data-testid="ref-line-rsa-ceiling"]')), 'the floor line left of the ceiling line');
  // Each model pair's RSA effect legend carries both ticks.
  assert.equal((await o.page.$$('[data-testid="model-pair"] [data-testid="legend-ref-rsa-floor"]')).length, sections.length);
  await o.page.hover('[data-testid="ref-line-rsa-floor"] text');
  assert.match((await o.page.textContent('[data-testid="tooltip"]'))!, /^floor: best effect \+1\.5 .*\nartifact floor-rsa-artifact$/s);
  const bc = '[data-testid="model-pair"][data-a="b"][data-b="c"]';
  assert.equal(await o.page.getAttribute(`${bc} [data-testid="cell-rsa-2-1"]`, 'data-failed'), '1');
  assert.equal((await o.page.textContent(`${bc} [data-testid="failed-count"]`))!.trim(), '1 failed');
  assert.equal(await o.page.$(`[data-testid="model-pair"][data-a="a"][data-b="b"] [data-failed]`), null, 'only that section has a failed cell');
  await screenshot(o.page, 'n-model-sweep-reference-lines');
  assert.deepEqual(o.errors, []);
  await o.page.context().close();
});

test('resume takes every finished pair of every model pair over, by model pair and layers, and runs none', async () => {
  const resumed = await resumeSweep(env.client, outcome.sweepId);
  assert.equal(resumed.handedOver, 7);
  const again = await waitForSweep(env.client, outcome.sweepId);
  assert.equal(again.carriedOver, 7);
  assert.equal(again.ran, 0);
  assert.deepEqual(again.pairs, outcome.pairs);
  assert.equal(again.resultsId, outcome.resultsId, 'the same results artifact');
  assert.equal(again.reportId, outcome.reportId);
});
