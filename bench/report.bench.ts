// Report pages: UMAP compute time for one side of 2 000 points, page size and Chromium load time
// (until the page signals ready) for 2 × 2 000 points, each against a baseline from the same run.
//   UFG_BENCH_POINTS (default 2000), UFG_BENCH_DIM (default 256), UFG_BENCH_GRID (default 24)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { UMAP } from 'umap-js';
import { chromium } from 'playwright-core';
import { buildFeatureMap } from '../pipelines/render/buildFeatureMap.ts';
import { cosineKnn } from '../pipelines/render/cosineKnn.ts';
import { renderFeatureMapHtml } from '../pipelines/render/featureMapPage.ts';
import { seededRandom } from '../pipelines/random.ts';
import { renderSweepReportHtml } from '../pipelines/render/sweepPage.ts';
import { syntheticMapInput } from '../test/browser/syntheticMap.ts';
import { syntheticSweep } from '../test/browser/syntheticSweep.ts';

const ms = (t0: number) => performance.now() - t0;
const f1 = (x: number) => x.toFixed(1);

/** Mean ms per hover redraw (both panels), measured in the page. */
const HOVER_PROBE = () => {
  const m = (window as unknown as { ufgMap: { pointScreenPosition(s: string, i: number): { x: number; y: number } } }).ufgMap;
  const canvas = document.getElementById('canvas-a')!;
  const t0 = performance.now();
  for (let i = 0; i < 50; i++) {
    const p = m.pointScreenPosition('a', i);
    canvas.dispatchEvent(new MouseEvent('mousemove', { clientX: p.x, clientY: p.y, bubbles: true }));
  }
  return (performance.now() - t0) / 50;
};

async function loadTimes(files: string[], repeats: number, hoverFile?: string): Promise<{ load: number[]; hoverMs?: number }> {
  const browser = await chromium.launch({
    executablePath: process.env.UFG_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const best = files.map(() => Infinity);
    for (let r = 0; r < repeats; r++) {
      for (const [i, f] of files.entries()) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
        const t0 = performance.now();
        await page.goto(pathToFileURL(f).href);
        await page.waitForSelector('body[data-ufg-ready="1"]', { state: 'attached', timeout: 60000 });
        best[i] = Math.min(best[i]!, ms(t0));
        await page.close();
      }
    }
    let hoverMs: number | undefined;
    if (hoverFile) {
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(pathToFileURL(hoverFile).href);
      await page.waitForSelector('body[data-ufg-ready="1"]', { state: 'attached', timeout: 60000 });
      hoverMs = await page.evaluate(HOVER_PROBE);
      await page.close();
    }
    return { load: best, hoverMs };
  } finally {
    await browser.close();
  }
}

/** A page of the same byte size that only parses an inline JSON blob and signals ready. */
function blankPage(bytes: number): string {
  const head = '<!doctype html><html><head><meta charset="utf-8"></head><body><script type="application/json" id="d">"';
  const tail = '"</script><script>JSON.parse(document.getElementById("d").textContent);document.body.setAttribute("data-ufg-ready","1")</script></body></html>';
  return head + 'x'.repeat(Math.max(0, bytes - head.length - tail.length)) + tail;
}

export async function run(): Promise<void> {
  const n = Number(process.env.UFG_BENCH_POINTS ?? 2000);
  const d = Number(process.env.UFG_BENCH_DIM ?? 256);
  const grid = Number(process.env.UFG_BENCH_GRID ?? 24);
  const input = syntheticMapInput(n, d, 1);
  input.umap = { seed: 1 };
  console.log(`report bench: ${n} points per side, d=${d}`);

  // UMAP, one side: exact kNN on ONNX Runtime + umap-js optimisation, vs umap-js's own nn-descent.
  await cosineKnn(input.sideA.decoder, 15); // warm the gemm session
  let t0 = performance.now();
  await cosineKnn(input.sideA.decoder, 15);
  const knnMs = ms(t0);
  t0 = performance.now();
  const map = await buildFeatureMap(input);
  const buildMs = ms(t0);
  const rows = Array.from({ length: n }, (_, i) => Array.from(input.sideA.decoder.data.subarray(i * d, (i + 1) * d)));
  t0 = performance.now();
  new UMAP({ nComponents: 2, nNeighbors: 15, random: seededRandom(1), distanceFn: (x, y) => {
    let dot = 0, nx = 0, ny = 0;
    for (let k = 0; k < x.length; k++) (dot += x[k]! * y[k]!), (nx += x[k]! ** 2), (ny += y[k]! ** 2);
    return 1 - dot / Math.sqrt(nx * ny || 1);
  } }).fit(rows);
  const jsUmapMs = ms(t0);
  console.log(`  exact cosine kNN (ONNX gemm + top-k), one side: ${f1(knnMs)} ms`);
  console.log(`  buildFeatureMap, both sides (kNN + UMAP):       ${f1(buildMs)} ms (${f1((buildMs / (2 * n)) * 1000)} µs/point)`);
  console.log(`  baseline umap-js alone (nn-descent kNN), one side: ${f1(jsUmapMs)} ms  → ours per side is ${(jsUmapMs / (buildMs / 2)).toFixed(2)}× faster`);

  const dir = mkdtempSync(join(tmpdir(), 'ufg-report-bench-'));
  try {
    const html = renderFeatureMapHtml(map);
    const sweepHtml = renderSweepReportHtml(syntheticSweep(Array.from({ length: grid }, (_, i) => i), Array.from({ length: grid }, (_, i) => i)));
    const files = {
      map: join(dir, 'map.html'),
      blank: join(dir, 'blank.html'),
      sweep: join(dir, 'sweep.html'),
      sweepBlank: join(dir, 'sweep-blank.html'),
    };
    writeFileSync(files.map, html);
    writeFileSync(files.blank, blankPage(Buffer.byteLength(html)));
    writeFileSync(files.sweep, sweepHtml);
    writeFileSync(files.sweepBlank, blankPage(Buffer.byteLength(sweepHtml)));
    const timed = await loadTimes([files.map, files.blank, files.sweep, files.sweepBlank], 3, files.map);
    const [mapMs, blankMs, sweepMs, sweepBlankMs] = timed.load;
    console.log(`  feature map page (2 × ${n} points): ${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, ${(Buffer.byteLength(html) / (2 * n)).toFixed(0)} B/point`);
    console.log(`    load until ready: ${f1(mapMs!)} ms vs blank page of same size ${f1(blankMs!)} ms (${(mapMs! / blankMs!).toFixed(2)}×)`);
    console.log(`    hover redraw (both panels, ${2 * n} points): ${timed.hoverMs!.toFixed(2)} ms (${((timed.hoverMs! / (2 * n)) * 1000).toFixed(2)} µs/point; 16.7 ms = one 60 Hz frame)`);
    console.log(`  sweep report (${grid}×${grid} grid): ${(Buffer.byteLength(sweepHtml) / 1024).toFixed(0)} KiB`);
    console.log(`    load until ready: ${f1(sweepMs!)} ms vs blank page of same size ${f1(sweepBlankMs!)} ms (${(sweepMs! / sweepBlankMs!).toFixed(2)}×)`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
