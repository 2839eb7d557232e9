// Recorded histories carry the recording machine's paths: in stack traces, and inside the
// base64 JSON payloads (configs, activity inputs). Replay never opens those files, so they are
// rewritten to a neutral root (`/repo/`) before a history is committed: a checkout elsewhere holds
// no reference to this machine's folders. `node --import tsx test/histories/sanitize.ts PREFIX…`
// rewrites every committed history in place.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const NEUTRAL_ROOT = '/repo/';

function replaceAll(text: string, prefixes: readonly string[]): string {
  let out = text;
  for (const p of prefixes) out = out.split(p.endsWith('/') ? p : `${p}/`).join(NEUTRAL_ROOT);
  return out;
}

/** The history JSON with every prefix replaced, in plain text and in base64 payload data. */
export function sanitizeHistoryJson(json: string, prefixes: readonly string[]): string {
  const decoded = json.replace(/"data":"([A-Za-z0-9+/=]*)"/g, (whole, b64: string) => {
    const text = Buffer.from(b64, 'base64').toString('utf8');
    // Only payloads that are text round-trip; anything else stays as it was.
    if (Buffer.from(text, 'utf8').toString('base64') !== b64) return whole;
    const clean = replaceAll(text, prefixes);
    return clean === text ? whole : `"data":"${Buffer.from(clean, 'utf8').toString('base64')}"`;
  });
  return replaceAll(decoded, prefixes);
}

function historyFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? historyFiles(p) : name.endsWith('.json') ? [p] : [];
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const prefixes = process.argv.slice(2);
  const dir = fileURLToPath(new URL('.', import.meta.url));
  let changed = 0;
  for (const f of historyFiles(dir)) {
    const before = readFileSync(f, 'utf8');
    const after = sanitizeHistoryJson(before, prefixes);
    if (after !== before) writeFileSync(f, after), changed++;
  }
  console.error(`sanitize: ${changed} histories rewritten`);
}
