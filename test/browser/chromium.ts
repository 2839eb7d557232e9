// Debian's Chromium driven by playwright-core, with the network cut off: every request that is
// not file:// is aborted and recorded, so a test can assert that a page needed nothing outside.
import { chromium, type Browser, type Page } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export const SCREENSHOT_DIR = 'test-results';

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.UFG_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}

export interface OfflinePage {
  page: Page;
  /** Non-file requests the page attempted (all aborted). */
  blocked: string[];
  /** Console errors and uncaught page errors. */
  errors: string[];
  /** Dialogs (alert/confirm/prompt) the page tried to open. */
  dialogs: string[];
}

export async function openOffline(browser: Browser, file: string, viewport = { width: 1400, height: 1000 }): Promise<OfflinePage> {
  const context = await browser.newContext({ viewport, offline: true });
  const page = await context.newPage();
  const out: OfflinePage = { page, blocked: [], errors: [], dialogs: [] };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith('file:')) return route.continue();
    out.blocked.push(url);
    return route.abort();
  });
  page.on('dialog', (d) => {
    out.dialogs.push(d.message());
    void d.dismiss();
  });
  page.on('pageerror', (e) => out.errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') out.errors.push(m.text());
  });
  await page.goto(pathToFileURL(file).href);
  await page.waitForSelector('body[data-ufg-ready="1"]', { state: 'attached', timeout: 15000 });
  return out;
}

/** Saves test-results/<name>.png; fullPage=false keeps the viewport (and any hover) untouched. */
export async function screenshot(page: Page, name: string, fullPage = true): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = `${SCREENSHOT_DIR}/${name}.png`;
  await page.screenshot({ path, fullPage });
  return path;
}
