// Everything on a report page that came from a corpus, a model name or a config passes through
// here: labels are arbitrary text (a token can be "<script>"), and the pages are opened from disk
// where an injected script would run with file:// access.

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escape for HTML text and for quoted attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * JSON that is safe inside <script type="application/json">: no `<` can start `</script>` or
 * `<!--`, and U+2028/2029 cannot break older JS parsers. JSON.parse turns the escapes back.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline script/style bodies are our own code; refuse one that could close its own tag. */
export function assertInlineSafe(code: string, tag: 'script' | 'style'): string {
  if (new RegExp(`</${tag}`, 'i').test(code)) throw new Error(`inline ${tag} contains </${tag}`);
  return code;
}

/**
 * The only links a report draws: feature-map pages next to it, as the sweep writes them
 * (`maps/A<layer>_B<layer>.html`, or one folder deeper per model pair of an N-model sweep:
 * `maps/a_vs_a~floor/A1_B1.html`). No scheme, no `..`, no query.
 */
const MAP_HREF = /^maps\/[A-Za-z0-9_~-]+(?:\/[A-Za-z0-9_-]+)?\.html$/;

export function isMapHref(href: string): boolean {
  return MAP_HREF.test(href);
}
