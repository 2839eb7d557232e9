// The pages' own JS and CSS live as plain files next to this module and are inlined into every
// page, so a report is one file that opens from disk with no network.
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

/** A page that allows only its own inline code: no fetches, no external scripts or styles. */
export const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'none'";

/** The shared start of every page, up to the opening `<body>`: CSP, title and inlined styles. */
export function pageHead(title: string, kind: string, styles: readonly string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(CONTENT_SECURITY_POLICY)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} — ufg ${escapeHtml(kind)}</title>
<style>${styles.map(clientAsset).join('')}</style>
</head>`;
}
