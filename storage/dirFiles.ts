// The files of an artifact folder as the store sees them: names relative to the folder,
// '/'-separated, leaving out dot-names (temp files of writes in flight) and the manifest.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MANIFEST_NAME } from './manifest.ts';

export function isMissing(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

export async function listFilesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  async function walk(sub: string): Promise<void> {
    let entries;
    try {
      entries = await readdir(join(dir, sub), { withFileTypes: true });
    } catch (e) {
      if (isMissing(e)) return;
      throw e;
    }
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      const rel = sub ? `${sub}/${entry.name}` : entry.name;
      if (entry.isDirectory()) await walk(rel);
      else if (entry.isFile() && rel !== MANIFEST_NAME) out.push(rel);
    }
  }
  await walk('');
  return out.sort();
}

/** Removes temp files that writers killed mid-write left behind, so they are not published. */
export async function removeStrayTempFiles(dir: string): Promise<void> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && /^\..*\.tmp-/.test(entry.name)) await rm(join(entry.parentPath, entry.name), { force: true });
  }
}
