// Storage costs a long sweep pays on every chunk: atomic (fsynced) writes vs plain writes, and
// commit-time hashing vs just reading the bytes. Sizes: UFG_BENCH_STORAGE_MB (default 64) split
// into UFG_BENCH_STORAGE_CHUNKS chunks (default 16).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256File, writeFileAtomic } from '../storage/atomic.ts';
import { artifactId, codeVersionFor } from '../storage/artifactId.ts';
import { LocalDirStore } from '../storage/store.ts';

async function time(fn: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

export async function run(): Promise<void> {
  const totalMb = Number(process.env.UFG_BENCH_STORAGE_MB ?? 64);
  const chunks = Number(process.env.UFG_BENCH_STORAGE_CHUNKS ?? 16);
  const chunkBytes = Math.floor((totalMb * 1e6) / chunks);
  const dir = mkdtempSync(join(tmpdir(), 'ufg-bench-storage-'));
  const data = new Uint8Array(chunkBytes);
  for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761) >>> 24;
  const mb = (chunkBytes * chunks) / 1e6;
  try {
    const plain = await time(async () => {
      for (let i = 0; i < chunks; i++) await writeFile(join(dir, `plain-${i}`), data);
    });
    const atomic = await time(async () => {
      for (let i = 0; i < chunks; i++) await writeFileAtomic(join(dir, `atomic-${i}`), data);
    });
    console.log(`write ${chunks} × ${(chunkBytes / 1e6).toFixed(1)} MB: plain ${(mb / plain).toFixed(0)} MB/s, atomic+fsync ${(mb / atomic).toFixed(0)} MB/s (${(atomic / plain).toFixed(2)}× plain time)`);

    const read = await time(async () => {
      for (let i = 0; i < chunks; i++) await readFile(join(dir, `plain-${i}`));
    });
    const hash = await time(async () => {
      for (let i = 0; i < chunks; i++) await sha256File(join(dir, `plain-${i}`));
    });
    console.log(`read+sha256: read ${(mb / read).toFixed(0)} MB/s, sha256File ${(mb / hash).toFixed(0)} MB/s (${(hash / read).toFixed(2)}× read time)`);

    // Commit of a chunked artifact: hashes computed during writeFile are reused, so commit only
    // stats files. A resumed attempt (new lease holder) carries the earlier attempt's files over by
    // hard link and trusts their recorded digests where the inode is unchanged; a file with no
    // record (extraction writes its chunks itself) is re-hashed once when carried.
    const store = new LocalDirStore(join(dir, 'store'));
    const spec = (n: number) => ({ stage: 'extract', codeVersion: codeVersionFor('extract'), params: { n }, inputs: [] });
    const writer = async (n: number) => (await store.begin(artifactId(spec(n)))).writer!;
    const w1 = await writer(1);
    for (let i = 0; i < chunks; i++) await w1.writeFile(`chunk-${i}`, data);
    const fresh = await time(async () => void (await w1.commit(spec(1))));
    const w2 = await writer(2);
    for (let i = 0; i < chunks; i++) await w2.writeFile(`chunk-${i}`, data);
    await w2.release();
    const recorded = await time(async () => void (await (await writer(2)).commit(spec(2))));
    const w3 = await writer(3);
    for (let i = 0; i < chunks; i++) writeFileSync(join(store.writerDir(w3), `chunk-${i}`), data);
    await w3.release();
    const unrecorded = await time(async () => void (await (await writer(3)).commit(spec(3))));
    console.log(
      `commit ${mb.toFixed(0)} MB in ${chunks} files: hashes known ${(fresh * 1000).toFixed(0)} ms; resumed with recorded digests ${(recorded * 1000).toFixed(0)} ms, without (re-hash) ${(unrecorded * 1000).toFixed(0)} ms`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
