// Checks what a screenshot actually shows, not what the DOM claims: a panel can be in the DOM with
// the right children and still paint as an empty box (content-visibility skipping, canvases sized
// before layout, lazy drawing). The PNG is decoded by Chromium itself on a blank page, so no PNG
// decoder is needed here.
import type { Browser, Page } from 'playwright-core';

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PaintStats {
  /** Fraction of the box's pixel rows that hold at least one pixel unlike the background. */
  paintedRowFraction: number;
  /** Longest run of consecutive pixel rows that are all background, in px. */
  longestBlankRun: number;
}

/** Document-space boxes (what a full-page screenshot's pixels index) of every element matching selector. */
export function documentBoxes(page: Page, selector: string): Promise<Box[]> {
  return page.$$eval(selector, (els) =>
    els.map((e) => {
      const r = e.getBoundingClientRect();
      return { x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height };
    }),
  );
}

/**
 * Per box, how much of it is painted. `background` is the box's own fill (#rrggbb); a pixel counts
 * as painted when a channel differs from it by more than `tolerance`. The box is inset by `inset` px
 * so its border does not count as content.
 */
export async function paintStats(browser: Browser, png: Buffer, boxes: Box[], background: string, inset = 4, tolerance = 24): Promise<PaintStats[]> {
  const context = await browser.newContext({ offline: true });
  try {
    const page = await context.newPage();
    return await page.evaluate(
      async ({ b64, boxes, background, inset, tolerance }) => {
        const img = new Image();
        img.src = `data:image/png;base64,${b64}`;
        await img.decode();
        const canvas = document.createElement('canvas');
        canvas.width = img.naturalWidth;
        canvas.height = img.naturalHeight;
        const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
        ctx.drawImage(img, 0, 0);
        const bg = [1, 3, 5].map((k) => parseInt(background.slice(k, k + 2), 16));
        return boxes.map((b) => {
          const x0 = Math.max(0, Math.round(b.x + inset));
          const y0 = Math.max(0, Math.round(b.y + inset));
          const x1 = Math.min(canvas.width, Math.round(b.x + b.width - inset));
          const y1 = Math.min(canvas.height, Math.round(b.y + b.height - inset));
          if (x1 <= x0 || y1 <= y0) return { paintedRowFraction: 0, longestBlankRun: Math.max(0, y1 - y0) };
          const px = ctx.getImageData(x0, y0, x1 - x0, y1 - y0).data;
          const w = x1 - x0;
          let painted = 0;
          let run = 0;
          let longest = 0;
          for (let y = 0; y < y1 - y0; y++) {
            let any = false;
            for (let x = 0; x < w && !any; x++) {
              const o = (y * w + x) * 4;
              any = Math.abs(px[o]! - bg[0]!) > tolerance || Math.abs(px[o + 1]! - bg[1]!) > tolerance || Math.abs(px[o + 2]! - bg[2]!) > tolerance;
            }
            if (any) {
              painted++;
              run = 0;
            } else longest = Math.max(longest, ++run);
          }
          return { paintedRowFraction: painted / (y1 - y0), longestBlankRun: longest };
        });
      },
      { b64: png.toString('base64'), boxes, background, inset, tolerance },
    );
  } finally {
    await context.close();
  }
}
