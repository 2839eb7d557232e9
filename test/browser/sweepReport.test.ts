// The sweep report in real Chromium, opened from file:// with the network cut off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { renderSweepReportHtml } from '../../pipelines/render/sweepPage.ts';
import { launchChromium, openOffline, screenshot, SCREENSHOT_DIR } from './chromium.ts';
import { documentBoxes, paintStats } from './paintCheck.ts';
import { P_BUT_NOT_Q, SATURATED_CELL, SATURATED_REASON, syntheticSweep } from './syntheticSweep.ts';
import { viridis } from '../../pipelines/render/colorScale.ts';
import { SATURATED_FILL } from '../../pipelines/render/sweepPage.ts';

let browser: Browser;
let dir: string;
let file: string;
// Leave one cell out to check that a missing layer pair is drawn as such.
const full = syntheticSweep();
const data = { ...full, cells: full.cells.filter((c) => !(c.layerA === 3 && c.layerB === 0)) };

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ufg-sweep-'));
  file = join(dir, 'report.html');
  writeFileSync(file, renderSweepReportHtml(data));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('heat-map cells cover the layer grid, hover shows null mean, p and artifact id', async () => {
  const o = await openOffline(browser, file);
  for (const score of ['svcca', 'rsa'] as const) {
    const cells = await o.page.$$(`[data-testid="heatmap-${score}"] [data-testid^="cell-${score}-"]`);
    assert.equal(cells.length, data.layersA.length * data.layersB.length);
    assert.equal(await o.page.getAttribute(`[data-testid="cell-${score}-3-0"]`, 'data-missing'), '1');
  }
  const c = data.cells.find((x) => x.layerA === 1 && x.layerB === 2)!;
  await o.page.hover('[data-testid="cell-svcca-1-2"]');
  assert.ok(await o.page.isVisible('[data-testid="tooltip"]'));
  const tip = (await o.page.textContent('[data-testid="tooltip"]'))!;
  assert.match(tip, new RegExp(`observed ${c.svcca.observed.toFixed(3)}`));
  assert.match(tip, new RegExp(`null mean ${c.svcca.nullMean.toFixed(3)}`));
  assert.match(tip, /p = 1\.0e-3/);
  assert.ok(tip.includes(`artifact ${c.svcca.artifactId}`));
  assert.equal(Number(await o.page.getAttribute('[data-testid="cell-rsa-1-2"]', 'data-observed')), c.rsa.observed);
  await screenshot(o.page, 'sweep-report-hover', false);
  // Cells are ordered by value: the colour of the best SVCCA cell differs from the worst.
  const fills = await o.page.$$eval('[data-testid^="cell-svcca-"]:not([data-missing]):not([data-saturated])', (rs) =>
    rs.map((r) => [Number(r.getAttribute('data-observed')), r.getAttribute('fill')] as const),
  );
  fills.sort((x, y) => x[0] - y[0]);
  assert.notEqual(fills[0]![1], fills[fills.length - 1]![1]);
  assert.deepEqual(o.blocked, []);
  assert.deepEqual(o.errors, []);
  await o.page.context().close();
});

test('a failed layer pair of a partial sweep is drawn as failed, its error (as text) on hover', async () => {
  const error = 'pairLayer: /data/saes/layers.3: changed since this sweep registered it <b onmouseover="window.__xss=1">x</b>';
  const partial = { ...full, cells: full.cells.filter((c) => !(c.layerA === 2 && c.layerB === 5)), failed: [{ layerA: 2, layerB: 5, error }] };
  const partialFile = join(dir, 'partial.html');
  writeFileSync(partialFile, renderSweepReportHtml(partial));
  const o = await openOffline(browser, partialFile);
  for (const score of ['svcca', 'rsa']) {
    const cell = `[data-testid="cell-${score}-2-5"]`;
    assert.equal(await o.page.getAttribute(cell, 'data-failed'), '1');
    await o.page.hover(cell);
    assert.equal(await o.page.textContent('[data-testid="tooltip"]'), `A layer 2 ↔ B layer 5: failed\n${error}`);
  }
  assert.equal(await o.page.textContent('[data-testid="failed-count"]'), '1 failed');
  assert.equal(await o.page.locator('#pair-2-5').count(), 0, 'no card for the failed pair');
  const state = await o.page.evaluate(() => ({ xss: (window as any).__xss ?? null, handlers: document.querySelectorAll('[onmouseover]').length }));
  assert.deepEqual(state, { xss: null, handlers: 0 }, 'the error is text, not markup');
  await screenshot(o.page, 'sweep-report-failed-cell', false);
  assert.deepEqual(o.blocked, []);
  await o.page.context().close();
});

/** Fill, label and star of every drawn SVCCA cell, as the page shows them now. */
async function svccaCells(o: Awaited<ReturnType<typeof openOffline>>) {
  return o.page.$$eval('[data-testid^="cell-svcca-"]:not([data-missing])', (rs) =>
    rs.map((r) => ({
      id: r.getAttribute('data-testid')!,
      fill: r.getAttribute('fill')!,
      effectFill: r.getAttribute('data-fill-effect')!,
      observedFill: r.getAttribute('data-fill-observed')!,
      text: r.parentElement!.querySelector('text.v')?.textContent ?? '',
      saturated: r.getAttribute('data-saturated') === '1',
    })),
  );
}

test('heat-maps colour by effect by default, switch to the observed score and back, and say which they show', async () => {
  const o = await openOffline(browser, file);
  assert.equal(await o.page.evaluate(() => (window as any).ufgReport.colourMode()), 'effect');
  assert.match((await o.page.locator('[data-testid="colour-mode"]').innerText()).trim(), /^Showing the effect: \(observed − null mean\) \/ null sd/);
  assert.ok(await o.page.isChecked('[data-testid="colour-effect"]'));
  assert.ok(await o.page.isVisible('[data-testid="legend-svcca-effect"]'));
  assert.ok(!(await o.page.isVisible('[data-testid="legend-svcca-observed"]')));
  assert.match((await o.page.locator('[data-testid="heatmap-svcca"] h2').innerText()), /\(effect\)/);
  const c = data.cells.find((x) => x.layerA === 1 && x.layerB === 2)!;
  let cells = await svccaCells(o);
  for (const k of cells) assert.equal(k.fill, k.effectFill, `${k.id} is drawn by its effect`);
  assert.equal(cells.find((k) => k.id === 'cell-svcca-1-2')!.text.replace('*', ''), c.svcca.effect!.toFixed(1));
  // The effect colours follow the effects: the largest and smallest effect get different colours.
  const byEffect = data.cells.filter((x) => !x.svcca.saturated).sort((p, q) => p.svcca.effect! - q.svcca.effect!);
  const fillOf = (la: number, lb: number) => cells.find((k) => k.id === `cell-svcca-${la}-${lb}`)!.fill;
  assert.notEqual(fillOf(byEffect[0]!.layerA, byEffect[0]!.layerB), fillOf(byEffect.at(-1)!.layerA, byEffect.at(-1)!.layerB));

  await o.page.check('[data-testid="colour-observed"]');
  assert.equal(await o.page.evaluate(() => (window as any).ufgReport.colourMode()), 'observed');
  assert.match((await o.page.locator('[data-testid="colour-mode"]').innerText()).trim(), /^Showing the observed score/);
  assert.ok(await o.page.isVisible('[data-testid="legend-svcca-observed"]'));
  assert.ok(!(await o.page.isVisible('[data-testid="legend-svcca-effect"]')));
  assert.match((await o.page.locator('[data-testid="heatmap-svcca"] h2').innerText()), /\(observed\)/);
  cells = await svccaCells(o);
  for (const k of cells) assert.equal(k.fill, k.observedFill, `${k.id} is drawn by its observed score`);
  assert.equal(cells.find((k) => k.id === 'cell-svcca-1-2')!.text.replace('*', ''), c.svcca.observed.toFixed(2));
  // The observed view's scale: [0, 1] widened to the data.
  const observed = data.cells.map((x) => x.svcca.observed);
  const [lo, hi] = [Math.min(0, ...observed), Math.max(1, ...observed)];
  assert.equal(cells.find((k) => k.id === 'cell-svcca-1-2')!.fill, viridis((c.svcca.observed - lo) / (hi - lo)));
  await screenshot(o.page, 'sweep-report-observed', false);

  await o.page.check('[data-testid="colour-effect"]');
  cells = await svccaCells(o);
  for (const k of cells) assert.equal(k.fill, k.effectFill);
  assert.deepEqual(o.errors, []);
  await o.page.context().close();
});

test('saturated scores are grey in both views, and the tooltip and the card say why', async () => {
  const o = await openOffline(browser, file);
  const { layerA, layerB } = SATURATED_CELL;
  const sel = `[data-testid="cell-svcca-${layerA}-${layerB}"]`;
  assert.equal(await o.page.getAttribute(sel, 'data-saturated'), '1');
  assert.equal(await o.page.getAttribute(sel, 'fill'), SATURATED_FILL);
  const greyed = (await svccaCells(o)).filter((k) => k.fill === SATURATED_FILL).map((k) => k.id);
  assert.deepEqual(greyed, [`cell-svcca-${layerA}-${layerB}`], 'only the saturated cell is grey');
  await o.page.hover(sel);
  assert.ok((await o.page.textContent('[data-testid="tooltip"]'))!.includes(`saturated (uninformative by construction): ${SATURATED_REASON}`));
  await o.page.check('[data-testid="colour-observed"]');
  assert.equal(await o.page.getAttribute(sel, 'fill'), SATURATED_FILL);
  const card = o.page.locator(`#pair-${layerA}-${layerB}`);
  assert.equal(await card.locator('[data-testid="score-row"][data-metric="svcca"]').getAttribute('data-saturated'), '1');
  assert.ok((await card.locator('[data-testid="saturated-note"]').textContent())!.includes(SATURATED_REASON));
  assert.equal(await o.page.locator('[data-testid="saturated-note"]').count(), 1);
  // Skipped subspace scores are listed with their reasons.
  const skips = await o.page.locator(`#pair-${data.cells[1]!.layerA}-${data.cells[1]!.layerB} [data-testid="subspace-skip"]`).allTextContents();
  assert.deepEqual(skips, ['Countries · SVCCA: 3 pairs, svcca needs at least 5', 'Countries · RSA: 3 pairs, rsa needs at least 5']);
  await o.page.context().close();
});

test('stars mark q ≤ 0.05 (Benjamini–Hochberg over the sweep), not p ≤ 0.05, and the legend says so', async () => {
  const o = await openOffline(browser, file);
  const odd = data.cells.find((x) => x.layerA === P_BUT_NOT_Q.layerA && x.layerB === P_BUT_NOT_Q.layerB)!.svcca;
  assert.ok(odd.p <= 0.05 && odd.q! > 0.05, `the fixture has a cell significant by p only: p ${odd.p}, q ${odd.q}`);
  const cells = await svccaCells(o);
  const text = (la: number, lb: number) => cells.find((k) => k.id === `cell-svcca-${la}-${lb}`)!.text;
  assert.ok(!text(P_BUT_NOT_Q.layerA, P_BUT_NOT_Q.layerB).includes('*'), 'p ≤ 0.05 alone earns no star');
  for (const c of data.cells) assert.equal(text(c.layerA, c.layerB).endsWith('*'), c.svcca.q! <= 0.05, `cell ${c.layerA}/${c.layerB}: q ${c.svcca.q}`);
  assert.ok(data.cells.some((c) => c.svcca.q! <= 0.05), 'some cells are starred');
  assert.match((await o.page.locator('p.legend').innerText()), /\* marks q ≤ 0\.05: the Benjamini–Hochberg q over every scored cell, subspace and metric of the sweep/);
  await o.page.hover('[data-testid="cell-svcca-1-2"]');
  assert.match((await o.page.textContent('[data-testid="tooltip"]'))!, /p = 1\.0e-3, q = \d/);
  await o.page.context().close();
});

test('every layer pair has a card with subspace bars, filter counts, feature-map link and lineage', async () => {
  const o = await openOffline(browser, file);
  assert.equal(await o.page.locator('[data-testid="pair-card"]').count(), data.cells.length);
  const c = data.cells.find((x) => x.layerA === 2 && x.layerB === 4)!;
  const card = o.page.locator('#pair-2-4');
  assert.equal(await card.locator('[data-testid="feature-map-link"]').getAttribute('href'), c.featureMap);
  assert.equal(await card.locator('[data-testid="pair-artifact"]').textContent(), c.artifactId);
  assert.equal(await card.locator('[data-testid="subspace-svcca"]').count(), c.subspaces.length);
  assert.equal(await card.locator('[data-testid="count"]').count(), c.counts.length);
  const text = (await card.textContent())!;
  for (const id of [c.svcca.artifactId, c.rsa.artifactId]) assert.ok(text.includes(id), `missing ${id}`);
  await card.locator('[data-testid="subspace-rsa"]').first().hover();
  assert.ok((await o.page.textContent('[data-testid="tooltip"]'))!.includes(c.subspaces[0]!.rsa!.artifactId));
  // Clicking a heat-map cell jumps to its card.
  await o.page.click('[data-testid="cell-rsa-2-4"]');
  assert.equal(new URL(o.page.url()).hash, '#pair-2-4');
  assert.ok(await o.page.locator('#pair-2-4').isVisible());
  await screenshot(o.page, 'sweep-report-jump', false);
  assert.deepEqual(o.blocked, []);
  await o.page.context().close();
});

test('a model name carrying HTML shows as text and runs nothing', async () => {
  const o = await openOffline(browser, file);
  assert.ok((await o.page.textContent('h1'))!.includes('<img src=x onerror="window.__xss=1">'));
  const state = await o.page.evaluate(() => ({ xss: (window as any).__xss ?? null, imgs: document.querySelectorAll('img').length }));
  assert.deepEqual(state, { xss: null, imgs: 0 });
  assert.deepEqual(o.dialogs, []);
  assert.deepEqual(o.errors, []);
  await o.page.context().close();
});

// The DOM can hold every card while the capture shows empty boxes (content-visibility: auto skips
// painting off-screen cards, and a full-page capture does not scroll them into view). So check
// the pixels of a full-page capture: every heat-map and card must be drawn top to bottom.
test('a full-page capture paints every heat-map and pair card, with no blank boxes', async () => {
  const o = await openOffline(browser, file);
  const png = await o.page.screenshot({ fullPage: true });
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  writeFileSync(join(SCREENSHOT_DIR, 'sweep-report-full.png'), png);
  const panel = await o.page.evaluate(() => getComputedStyle(document.documentElement).getPropertyValue('--panel').trim());
  for (const selector of ['[data-testid^="heatmap-"]', '[data-testid="pair-card"]']) {
    const boxes = await documentBoxes(o.page, selector);
    assert.ok(boxes.length > 0, selector);
    const stats = await paintStats(browser, png, boxes, panel);
    stats.forEach((s, i) => {
      const where = `${selector} #${i} at y=${Math.round(boxes[i]!.y)} (${Math.round(boxes[i]!.height)} px tall)`;
      assert.ok(s.paintedRowFraction >= 0.5, `${where}: only ${(100 * s.paintedRowFraction).toFixed(0)}% of its rows are drawn`);
      assert.ok(s.longestBlankRun <= 80, `${where}: ${s.longestBlankRun} px of blank rows`);
    });
  }
  // Page height follows the content: header, heat-maps and rows of cards, nothing more.
  const layout = await o.page.evaluate(() => {
    const cards = Array.from(document.querySelectorAll('[data-testid="pair-card"]')).map((c) => c.getBoundingClientRect());
    const rows = new Set(cards.map((r) => Math.round(r.top))).size;
    // Height of each card's own content (its children), whatever box the card was given.
    const tallest = Math.max(
      ...Array.from(document.querySelectorAll('[data-testid="pair-card"]')).map(
        (c) => Math.max(...Array.from(c.children).map((k) => k.getBoundingClientRect().bottom)) - c.getBoundingClientRect().top,
      ),
    );
    const pairsTop = document.querySelector('.pairs')!.getBoundingClientRect().top + window.scrollY;
    return { rows, tallest, pairsTop, pageHeight: document.documentElement.scrollHeight };
  });
  assert.ok(layout.pageHeight <= layout.pairsTop + layout.rows * (layout.tallest + 40) + 60, JSON.stringify(layout));
  assert.deepEqual(o.errors, []);
  await o.page.context().close();
});

test('only the page\'s own script runs: an injected script or handler is blocked by the CSP, a javascript: link is drawn as text', async () => {
  const evil = structuredClone(data);
  evil.cells[0]!.featureMap = 'java\tscript:window.__href=1';
  const html = renderSweepReportHtml(evil)
    // What an attacker editing the file (or a label that slipped past escaping) would add.
    .replace('</main>', '<script>window.__injected = 1</script><img src="data:," onerror="window.__handler=1"><div id="clickme" onclick="window.__click=1">x</div></main>');
  const evilFile = join(dir, 'evil.html');
  writeFileSync(evilFile, html);
  const csp = /http-equiv="Content-Security-Policy" content="([^"]*)"/.exec(html)![1]!.replaceAll('&#39;', "'");
  assert.match(csp, /script-src 'sha256-[A-Za-z0-9+/=]+'; script-src-attr 'none'/);
  assert.match(csp, /base-uri 'none'/);
  assert.doesNotMatch(csp, /script-src[^;]*unsafe-inline/);
  const o = await openOffline(browser, evilFile);
  await o.page.click('#clickme');
  const state = await o.page.evaluate(() => ({
    injected: (window as any).__injected ?? null,
    handler: (window as any).__handler ?? null,
    click: (window as any).__click ?? null,
    report: typeof (window as any).ufgReport,
  }));
  assert.deepEqual(state, { injected: null, handler: null, click: null, report: 'object' }, 'our script ran; nothing injected did');
  const card = o.page.locator(`#pair-${evil.cells[0]!.layerA}-${evil.cells[0]!.layerB}`);
  assert.equal(await card.locator('a[data-testid="feature-map-link"]').count(), 0, 'no link for a href ufg does not write');
  assert.equal(await o.page.locator('a[href^="java"]').count(), 0);
  await o.page.context().close();
});
