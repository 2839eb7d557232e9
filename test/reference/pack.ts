// Packs the reference data (the original code's numbers on seeded inputs, made outside this
// project) into the compressed copies the tests read: test/reference/<name>.json.gz. Input
// matrices are written at float32 precision (9 significant digits round-trip exactly), which is
// all the tests feed the measures (Float32Array); every expected output keeps its full precision.
// Run by hand when the reference data changes:
//   node --import tsx test/reference/pack.ts <folder holding the reference *.json files>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

/** Per file, the case fields that are input matrices. */
export const INPUT_MATRICES: Record<string, readonly string[]> = {
  similarity_cases: ['R', 'Rp'],
  pairing_cases: ['A', 'B'],
  pipeline_cases: ['A', 'B', 'WA', 'WB'],
};

const asF32 = (rows: number[][]): number[][] => rows.map((r) => r.map((v) => Number(Math.fround(v).toPrecision(9))));

export function pack(from: string, to: string): void {
  for (const [name, fields] of Object.entries(INPUT_MATRICES)) {
    const data = JSON.parse(readFileSync(join(from, `${name}.json`), 'utf8')) as { cases: Record<string, unknown>[] };
    for (const c of data.cases) for (const f of fields) c[f] = asF32(c[f] as number[][]);
    const gz = gzipSync(JSON.stringify(data), { level: 9 });
    writeFileSync(join(to, `${name}.json.gz`), gz);
    console.log(`${name}.json.gz: ${(gz.length / 1e6).toFixed(2)} MB`);
  }
}

if (process.argv[1] && import.meta.url === `file://${process.argv[1]}`) {
  const from = process.argv[2];
  if (!from) throw new Error('usage: node --import tsx test/reference/pack.ts <reference folder>');
  pack(from, import.meta.dirname);
}
