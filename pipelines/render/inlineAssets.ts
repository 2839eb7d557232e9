// The pages' own JS and CSS live as plain files next to this module and are inlined into every
// page, so a report is one file that opens from disk with no network.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { assertInlineSafe, escapeHtml } from './escape.ts';

const cache = new Map<string, string>();

export function clientAsset(name: string): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = readFileSync(new URL(`./client/${name}`, import.meta.url), 'utf8');
    assertInlineSafe(text, name.endsWith('.css') ? 'style' : 'script');
    cache.set(name, text);
  }
  return text;
}

/**
 * A page runs only the scripts it was rendered with: each is allowed by the sha256 of its text, so
 * a script or event-handler attribute injected into the page (a label that slipped past escaping,
 * an edited file) does not run. No fetches, no external resources, no <base>, no forms. Styles
 * stay inline (the pages set per-element fills and margins; a style cannot run code).
 */
export function contentSecurityPolicy(scripts: readonly string[]): string {
  const hashes = scripts.map((s) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`).join(' ');
  return [
    "default-src 'none'",
    `script-src ${hashes || "'none'"}`,
    "script-src-attr 'none'",
    "style-src 'unsafe-inline'",
    'img-src data:',
    "connect-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

/** The inline script element of a client asset (its text is what the page's CSP hashes). */
export function scriptTag(name: string): string {
  return `<script>${clientAsset(name)}</script>`;
}

/**
 * The shared start of every page, up to the opening `<body>`: CSP (allowing exactly the named
 * client scripts, which the page must then include with scriptTag), title and inlined styles.
 */
export function pageHead(title: string, kind: string, styles: readonly string[], scripts: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(contentSecurityPolicy(scripts.map(clientAsset)))}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — ufg ${escapeHtml(kind)}</title>
<style>${styles.map(clientAsset).join('')}</style>
</head>`;
}
