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
import { syntheticSweep } from './syntheticSweep.ts';

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
  const fills = await o.page.$$eval('[data-testid^="cell-svcca-"]:not([data-missing])', (rs) =>
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
  assert.deepEqual(o.errors, []);
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
