// The feature-map page in real Chromium, opened from file:// with the network cut off.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { buildFeatureMap } from '../../pipelines/render/buildFeatureMap.ts';
import { renderFeatureMapHtml } from '../../pipelines/render/featureMapPage.ts';
import type { FeatureMapData } from '../../pipelines/render/types.ts';
import { launchChromium, openOffline, screenshot, type OfflinePage } from './chromium.ts';
import { syntheticMapInput, XSS_LABEL } from './syntheticMap.ts';

let browser: Browser;
let dir: string;
let file: string;
let data: FeatureMapData;

before(async () => {
  data = await buildFeatureMap(syntheticMapInput());
  dir = mkdtempSync(join(tmpdir(), 'ufg-map-'));
  file = join(dir, 'map.html');
  writeFileSync(file, renderFeatureMapHtml(data));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

type Pt = { x: number; y: number };
const positions = (o: OfflinePage, side: 'a' | 'b'): Promise<Pt[]> =>
  o.page.evaluate((s) => {
    const m = (window as any).ufgMap;
    return Array.from({ length: m.pointCount(s) }, (_, i) => m.pointScreenPosition(s, i));
  }, side);

function clean(o: OfflinePage): void {
  assert.deepEqual(o.blocked, [], 'page made network requests');
  assert.deepEqual(o.errors, [], 'page logged errors');
  assert.deepEqual(o.dialogs, [], 'page opened dialogs');
}

/** Pairs whose `side` end lies in `inside` (expected table content, computed independently of the page). */
function pairsWith(side: 'a' | 'b', inside: Set<number>): number[] {
  return data.pairs.flatMap((p, k) => (inside.has(side === 'a' ? p.a : p.b) ? [k] : [])).sort((x, y) => x - y);
}

async function tableRows(o: OfflinePage): Promise<number[]> {
  const ks = await o.page.$$eval('[data-testid="pair-row"]', (rows) => rows.map((r) => Number(r.getAttribute('data-pair'))));
  return ks.sort((x, y) => x - y);
}

test('the network guard records a request a page makes (so an empty list means something)', async () => {
  const probe = join(dir, 'probe.html');
  writeFileSync(probe, '<!doctype html><body><img src="http://example.invalid/x.png"><script>document.body.setAttribute("data-ufg-ready","1")</script></body>');
  const o = await openOffline(browser, probe);
  await o.page.waitForTimeout(200);
  assert.ok(o.blocked.some((u) => u.startsWith('http://example.invalid/')), `blocked: ${o.blocked}`);
  await o.page.context().close();
});

test('page loads from file:// offline, shows both models and the mapping method', async () => {
  const o = await openOffline(browser, file);
  clean(o);
  assert.equal(await o.page.getAttribute('[data-testid="mapping-method"]', 'data-method'), 'hungarian');
  assert.match((await o.page.textContent('[data-testid="mapping-method"]'))!, /Hungarian/);
  assert.equal(await o.page.textContent('h1'), 'Synthetic <b>pair</b> & test');
  assert.match((await o.page.textContent('[data-testid="panel-a"] h2'))!, /synthetic\/a-<model>/);
  const counts = await o.page.evaluate(() => [(window as any).ufgMap.pointCount('a'), (window as any).ufgMap.pointCount('b')]);
  assert.deepEqual(counts, [data.pointsA.length, data.pointsB.length]);
  const scopes = await o.page.$$eval('[data-testid="metrics-row"]', (rs) => rs.map((r) => r.getAttribute('data-scope')));
  assert.deepEqual(scopes, ['All kept pairs', ...data.groups.map((g) => g.name)]);
  const svcca = await o.page.textContent('[data-testid="metrics-row"][data-scope="All kept pairs"] [data-metric="svcca"]');
  assert.match(svcca!, /0\.640/);
  await screenshot(o.page, 'feature-map-initial');
  await o.page.context().close();
});

test('hovering a point in A highlights its mapped partner in B and shows a tooltip', async () => {
  const o = await openOffline(browser, file);
  const pa = await positions(o, 'a');
  // Hover the most isolated paired point so the hit test cannot pick a neighbour.
  let best = -1;
  let bestGap = -1;
  for (const p of data.pairs) {
    const gap = Math.min(...pa.map((q, j) => (j === p.a ? Infinity : Math.hypot(q.x - pa[p.a]!.x, q.y - pa[p.a]!.y))));
    if (gap > bestGap) [best, bestGap] = [p.a, gap];
  }
  await o.page.mouse.move(pa[best]!.x, pa[best]!.y);
  const hovered = await o.page.evaluate(() => (window as any).ufgMap.hovered());
  assert.deepEqual(hovered, { side: 'a', index: best });
  const expected = data.pairs.filter((p) => p.a === best).map((p) => p.b);
  const partners = await o.page.evaluate(() => (window as any).ufgMap.highlightedPartners());
  assert.equal(partners.side, 'b');
  assert.deepEqual([...partners.indices].sort(), [...expected].sort());
  for (const b of expected) {
    const style = await o.page.evaluate((i) => (window as any).ufgMap.pointStyle('b', i), b);
    assert.equal(style.role, 'partner');
    // The canvas really shows the highlight colour at the partner's centre.
    const px = await o.page.evaluate((i) => (window as any).ufgMap.pixelAt('b', i), b);
    assert.deepEqual(px.slice(0, 3), [0xff, 0x6b, 0x5b]);
  }
  const tip = await o.page.textContent('[data-testid="tooltip"]');
  assert.ok(await o.page.isVisible('[data-testid="tooltip"]'));
  assert.match(tip!, new RegExp(`Feature ${data.pointsA[best]!.id}`));
  const pair = data.pairs.find((p) => p.a === best)!;
  assert.match(tip!, new RegExp(`Mapped to B: ${data.pointsB[pair.b]!.id} .*correlation ${pair.correlation.toFixed(3)}`));
  assert.match((await o.page.textContent('[data-testid="info-b"]'))!, new RegExp(`Feature ${data.pointsB[pair.b]!.id}`));
  await screenshot(o.page, 'feature-map-hover', false);
  clean(o);
  await o.page.context().close();
});

test('box select lists exactly the pairs of the points inside the box', async () => {
  const o = await openOffline(browser, file);
  const pb = await positions(o, 'b');
  const box = await o.page.locator('[data-testid="canvas-b"]').boundingBox();
  // A box over the left half of panel B, away from edges.
  const x1 = Math.round(box!.x + 10);
  const y1 = Math.round(box!.y + 10);
  const x2 = Math.round(box!.x + box!.width * 0.5);
  const y2 = Math.round(box!.y + box!.height - 10);
  await o.page.mouse.move(x1, y1);
  await o.page.mouse.down();
  await o.page.mouse.move(x2, y2, { steps: 5 });
  await o.page.mouse.up();
  const inside = new Set(pb.flatMap((p, i) => (p.x >= x1 && p.x <= x2 && p.y >= y1 && p.y <= y2 ? [i] : [])));
  assert.ok(inside.size > 0 && inside.size < pb.length, `box holds ${inside.size} points`);
  const expected = pairsWith('b', inside);
  assert.deepEqual(await tableRows(o), expected);
  assert.match((await o.page.textContent('[data-testid="pair-table-title"]'))!, new RegExp(`${expected.length} pairs`));
  // Selected points are drawn amber in both panels.
  const k = expected[0]!;
  const roles = await o.page.evaluate((p) => [(window as any).ufgMap.pointStyle('a', p.a).role, (window as any).ufgMap.pointStyle('b', p.b).role], data.pairs[k]!);
  assert.deepEqual(roles, ['selected', 'selected']);
  await screenshot(o.page, 'feature-map-box-select');
  clean(o);
  await o.page.context().close();
});

function insidePolygon(x: number, y: number, poly: Array<[number, number]>): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i]!;
    const [xj, yj] = poly[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

test('lasso select lists exactly the pairs of the points inside the drawn outline', async () => {
  const o = await openOffline(browser, file);
  await o.page.check('[data-testid="mode-lasso"]');
  const pa = await positions(o, 'a');
  const box = (await o.page.locator('[data-testid="canvas-a"]').boundingBox())!;
  const cx = box.x + box.width / 2;
  const cy = box.y + box.height / 2;
  // A concave star outline, so a bounding-box shortcut would fail.
  const poly: Array<[number, number]> = Array.from({ length: 16 }, (_, i) => {
    const r = (i % 2 ? 0.22 : 0.45) * Math.min(box.width, box.height);
    const t = (i / 16) * 2 * Math.PI;
    return [Math.round(cx + r * Math.cos(t)), Math.round(cy + r * Math.sin(t))];
  });
  await o.page.mouse.move(poly[0]![0], poly[0]![1]);
  await o.page.mouse.down();
  for (const [x, y] of poly.slice(1)) await o.page.mouse.move(x, y);
  await o.page.mouse.up();
  const inside = new Set(pa.flatMap((p, i) => (insidePolygon(p.x, p.y, poly) ? [i] : [])));
  assert.ok(inside.size > 0, 'lasso holds no points');
  const sel = await o.page.evaluate(() => (window as any).ufgMap.lastSelectedPoints());
  assert.equal(sel.side, 'a');
  assert.deepEqual([...sel.indices].sort((x: number, y: number) => x - y), [...inside].sort((x, y) => x - y));
  assert.deepEqual(await tableRows(o), pairsWith('a', inside));
  await screenshot(o.page, 'feature-map-lasso');
  clean(o);
  await o.page.context().close();
});

test('picking a semantic group colours its features in both panels and draws its pair mesh', async () => {
  const o = await openOffline(browser, file);
  const gi = data.groups.findIndex((g) => g.name === 'Nature');
  await o.page.selectOption('[data-testid="group-select"]', String(gi));
  const color = await o.page.evaluate(() => (window as any).ufgMap.groupColor('Nature'));
  const rgb = [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16));
  for (const side of ['a', 'b'] as const) {
    const points = side === 'a' ? data.pointsA : data.pointsB;
    const ids = new Set(data.groups[gi]![side]);
    const members = points.flatMap((p, i) => (ids.has(p.id) ? [i] : []));
    assert.ok(members.length > 0);
    const info = await o.page.evaluate(
      ({ s, n }) => Array.from({ length: n }, (_, i) => ({ role: (window as any).ufgMap.pointStyle(s, i).role, px: (window as any).ufgMap.pixelAt(s, i) })),
      { s: side, n: points.length },
    );
    const memberSet = new Set(members);
    info.forEach((p, i) => assert.equal(p.role === 'group', memberSet.has(i), `${side}[${i}] role ${p.role}`));
    // Members may overlap each other's outlines; most centres must show the group colour.
    const coloured = members.filter((i) => info[i]!.px.slice(0, 3).every((v: number, k: number) => v === rgb[k])).length;
    assert.ok(coloured >= 0.8 * members.length, `${side}: ${coloured}/${members.length} members drawn in group colour`);
    // A non-member clear of every member (radius 5 + outline) must not show the group colour.
    const pos = await positions(o, side);
    const clear = info.flatMap((_, i) =>
      !memberSet.has(i) && members.every((m) => Math.hypot(pos[m]!.x - pos[i]!.x, pos[m]!.y - pos[i]!.y) > 7) ? [i] : [],
    );
    assert.ok(clear.length > 0, `${side}: no non-member clear of the group to check`);
    for (const i of clear) assert.notDeepEqual(info[i]!.px.slice(0, 3), rgb, `${side}[${i}] drawn in group colour`);
  }
  const mesh = await o.page.evaluate(() => (window as any).ufgMap.meshPairs());
  assert.ok(mesh.length > 1 && mesh.length <= 32);
  assert.equal(await o.page.getAttribute('[data-testid="metrics-row"][data-scope="Nature"]', 'class'), 'current');
  assert.match((await o.page.textContent('[data-testid="pair-table-title"]'))!, /Nature/);
  await screenshot(o.page, 'feature-map-group');
  await o.page.uncheck('[data-testid="mesh-toggle"]');
  assert.deepEqual(await o.page.evaluate(() => (window as any).ufgMap.meshPairs()), []);
  clean(o);
  await o.page.context().close();
});

test('a label carrying HTML/script shows as text and runs nothing', async () => {
  const o = await openOffline(browser, file);
  const xi = data.pointsA.findIndex((p) => p.label === XSS_LABEL);
  assert.ok(xi >= 0);
  // Pin the point's pairs with a click, then find its row in the table.
  const p = await o.page.evaluate((i) => (window as any).ufgMap.pointScreenPosition('a', i), xi);
  await o.page.mouse.move(p.x - 5, p.y - 5);
  await o.page.mouse.down();
  await o.page.mouse.move(p.x + 5, p.y + 5, { steps: 2 });
  await o.page.mouse.up();
  const cell = await o.page.textContent(`[data-testid="pair-row"][data-a="${xi}"] td:nth-child(2)`);
  assert.equal(cell, XSS_LABEL);
  await o.page.mouse.move(p.x, p.y);
  await o.page.waitForTimeout(100);
  const state = await o.page.evaluate(() => ({
    xss: (window as any).__xss ?? null,
    imgs: document.querySelectorAll('img').length,
    scripts: document.querySelectorAll('script').length,
  }));
  assert.deepEqual(state, { xss: null, imgs: 0, scripts: 2 });
  assert.deepEqual(o.dialogs, []);
  await screenshot(o.page, 'feature-map-xss-label', false);
  clean(o);
  await o.page.context().close();
});
