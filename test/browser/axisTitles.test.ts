// Heat-map axis titles in real Chromium: with long model names on a small layer grid, each title's
// painted box lies inside its SVG (nothing is cut off at the drawing's edge) and reads in full.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { renderSweepReportHtml } from '../../pipelines/render/sweepPage.ts';
import { launchChromium, openOffline, screenshot } from './chromium.ts';
import { syntheticSweep } from './syntheticSweep.ts';

const LONG_A = 'EleutherAI/pythia-70m-deduped (step 143000, d=512)';
const LONG_B = 'fixture-b (d=96) trained on the generated corpus';
const HUGE = `${'google/gemma-2-9b-it-with-a-very-long-local-fine-tune-name-'.repeat(3)}end`;

let browser: Browser;
let dir: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ufg-axis-'));
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function titleBoxes(modelA: string, modelB: string, layersA: number[], layersB: number[], name: string) {
  const file = join(dir, `${name}.html`);
  writeFileSync(file, renderSweepReportHtml({ ...syntheticSweep(layersA, layersB), modelA, modelB }));
  const o = await openOffline(browser, file);
  // No named functions inside the page callback: tsx would wrap them in a helper the page lacks.
  const boxes = await o.page.$$eval('[data-testid^="heatmap-"] svg[role="img"]', (svgs) =>
    svgs.map((svg) => ({
      svg: svg.getBoundingClientRect().toJSON() as DOMRect,
      titles: Array.from(svg.querySelectorAll('text.axis-title')).map((t) => ({
        box: t.getBoundingClientRect().toJSON() as DOMRect,
        // Lines (tspans) read as one title, separated by a space.
        text: Array.from(t.childNodes).filter((n) => n.nodeName !== 'title').map((n) => n.textContent).join(t.querySelector('tspan') ? ' ' : ''),
        lines: Number(t.getAttribute('data-lines')),
        tip: t.querySelector('title')?.textContent ?? '',
      })),
    })),
  );
  await screenshot(o.page, name);
  assert.deepEqual(o.errors, []);
  await o.page.context().close();
  return boxes;
}

function assertInside(boxes: Awaited<ReturnType<typeof titleBoxes>>) {
  assert.ok(boxes.length >= 2, 'one heat-map per metric');
  for (const { svg, titles } of boxes) {
    assert.equal(titles.length, 2);
    for (const t of titles) {
      const where = `"${t.text}" at [${t.box.left.toFixed(1)}, ${t.box.right.toFixed(1)}] × [${t.box.top.toFixed(1)}, ${t.box.bottom.toFixed(1)}], svg [${svg.left.toFixed(1)}, ${svg.right.toFixed(1)}] × [${svg.top.toFixed(1)}, ${svg.bottom.toFixed(1)}]`;
      const [short, long] = [t.box.right - t.box.left, t.box.bottom - t.box.top].sort((x, y) => x - y);
      assert.ok(short! > 5 && long! > 20, `painted: ${where}`);
      assert.ok(t.box.left >= svg.left && t.box.right <= svg.right && t.box.top >= svg.top && t.box.bottom <= svg.bottom, `inside its SVG: ${where}`);
    }
  }
}

test('long model names on a 2 × 2 grid: both axis titles lie inside the SVG and read in full', async () => {
  const boxes = await titleBoxes(LONG_A, LONG_B, [1, 2], [1, 2], 'axis-titles-long');
  assertInside(boxes);
  for (const { titles } of boxes) {
    assert.deepEqual(titles.map((t) => t.text), [`layer of B (${LONG_B})`, `layer of A (${LONG_A})`]);
    // Two rows of cells are shorter than the A title: its name goes on a second line.
    assert.equal(titles[1]!.lines, 2);
  }
});

test('a name too long for any axis is shortened in the middle, the full title in its tooltip, still inside', async () => {
  const boxes = await titleBoxes(HUGE, 'b', [0], [0], 'axis-titles-huge');
  assertInside(boxes);
  const a = boxes[0]!.titles[1]!;
  assert.match(a.text, /^layer of A \(google\/gemma.*….*end\)$/);
  assert.ok(a.text.length < HUGE.length);
  assert.equal(a.tip, `layer of A (${HUGE})`);
  assert.equal(boxes[0]!.titles[0]!.text, 'layer of B (b)');
});
