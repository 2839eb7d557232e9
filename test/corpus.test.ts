import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCorpus } from '../pipelines/corpus/readCorpus.ts';
import { isUserInputError } from '../pipelines/errors.ts';
import { writeParquetTable } from '../storage/parquet.ts';
import { ensureFixtures, fixtureCorpus } from './fixtures/generate.ts';

const made: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(join(tmpdir(), 'ufg-corpus-'));
  made.push(d);
  return d;
};
after(() => Promise.all(made.map((d) => rm(d, { recursive: true, force: true }))));

async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (e) => {
    assert.ok(isUserInputError(e), `expected UserInputError, got ${e}`);
    assert.match((e as Error).message, re);
    assert.ok(!(e as Error).message.includes('\n'), 'one line');
    return true;
  });
}

test('text, JSONL and Parquet fixtures give the same documents in file order', async () => {
  const fx = await ensureFixtures();
  const expected = fixtureCorpus();
  for (const path of [fx.corpusTxt, fx.corpusJsonl, fx.corpusParquet]) {
    const c = await readCorpus(path);
    assert.deepEqual(c.docs, expected, path);
  }
  assert.equal((await readCorpus(fx.corpusParquet)).format, 'parquet');
  assert.equal((await readCorpus(fx.corpusJsonl)).format, 'jsonl');
});

test('numSamples keeps the first N non-empty documents; plain text skips blank lines', async () => {
  const dir = await tmp();
  const p = join(dir, 'c.txt');
  await writeFile(p, 'first doc\n\n   \nsecond doc\r\nthird doc\n');
  assert.deepEqual((await readCorpus(p)).docs, ['first doc', 'second doc', 'third doc']);
  assert.deepEqual((await readCorpus(p, { numSamples: 2 })).docs, ['first doc', 'second doc']);
  const j = join(dir, 'c.jsonl');
  await writeFile(j, '{"body":"a"}\n\n{"body":"b"}\n{"body":"c"}\n');
  assert.deepEqual((await readCorpus(j, { textField: 'body', numSamples: 2 })).docs, ['a', 'b']);
});

test('bad corpora fail with one line naming the file (and line)', async () => {
  const dir = await tmp();
  const empty = join(dir, 'empty.txt');
  await writeFile(empty, '\n  \n\n');
  await rejectsWith(readCorpus(empty), /empty\.txt: corpus has no non-empty documents/);
  const bad = join(dir, 'bad.jsonl');
  await writeFile(bad, '{"text":"ok"}\n{"text": oops}\n');
  await rejectsWith(readCorpus(bad), /bad\.jsonl: line 2: invalid JSON/);
  const noField = join(dir, 'nofield.jsonl');
  await writeFile(noField, '{"text":"ok"}\n\n{"content":"x"}\n');
  await rejectsWith(readCorpus(noField), /nofield\.jsonl: line 3: no field "text"/);
  const notString = join(dir, 'num.jsonl');
  await writeFile(notString, '{"text":5}\n');
  await rejectsWith(readCorpus(notString), /num\.jsonl: line 1: field "text" is not a string/);
  await rejectsWith(readCorpus(join(dir, 'missing.txt')), /missing\.txt: cannot read corpus \(ENOENT\)/);
  const pq = join(dir, 'c.parquet');
  await writeParquetTable(pq, [{ name: 'body', type: 'STRING', data: ['x', 'y'] }]);
  await rejectsWith(readCorpus(pq), /c\.parquet: no column "text" \(columns: body/);
  assert.deepEqual((await readCorpus(pq, { textField: 'body' })).docs, ['x', 'y']);
  const notPq = join(dir, 'junk.parquet');
  await writeFile(notPq, 'not parquet at all');
  await rejectsWith(readCorpus(notPq), /junk\.parquet: not a readable Parquet file/);
});
