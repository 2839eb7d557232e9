// Corpus readers: plain text, JSONL and Parquet, all giving documents in file order (the order is
// the corpus order everywhere downstream, so doc ids are stable across runs and machines).
//
// Plain text: ONE DOCUMENT PER NON-EMPTY LINE (blank lines and lines of only whitespace are
// skipped). Line-per-document matches how the original's datasets are usually dumped and keeps a
// document's id equal to its position among non-empty lines.
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parquetMetadataAsync, parquetReadObjects, parquetSchema } from 'hyparquet';
import { UserInputError } from '../errors.ts';

export type CorpusFormat = 'text' | 'jsonl' | 'parquet';

export interface CorpusOptions {
  /** Default: from the extension (.jsonl/.ndjson → jsonl, .parquet → parquet, else text). */
  format?: CorpusFormat;
  /** JSONL field / Parquet column holding the text (default "text"). */
  textField?: string;
  /** Keep only the first N documents (after dropping empty ones); 0 or undefined = all. */
  numSamples?: number;
}

export interface Corpus {
  path: string;
  format: CorpusFormat;
  docs: string[];
}

export function corpusFormatOf(path: string): CorpusFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.jsonl' || ext === '.ndjson') return 'jsonl';
  if (ext === '.parquet') return 'parquet';
  return 'text';
}

export async function readCorpus(path: string, opts: CorpusOptions = {}): Promise<Corpus> {
  const format = opts.format ?? corpusFormatOf(path);
  const field = opts.textField ?? 'text';
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new UserInputError(`cannot read corpus (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  const limit = opts.numSamples && opts.numSamples > 0 ? opts.numSamples : Infinity;
  let docs: string[];
  if (format === 'text') docs = textDocs(bytes.toString('utf8'), limit);
  else if (format === 'jsonl') docs = jsonlDocs(bytes.toString('utf8'), field, path, limit);
  else docs = await parquetDocs(bytes, field, path, limit);
  if (docs.length === 0) throw new UserInputError('corpus has no non-empty documents', path);
  return { path, format, docs };
}

function textDocs(text: string, limit: number): string[] {
  const docs: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (docs.length >= limit) break;
    if (line.trim() !== '') docs.push(line);
  }
  return docs;
}

function jsonlDocs(text: string, field: string, path: string, limit: number): string[] {
  const docs: string[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length && docs.length < limit; i++) {
    const line = lines[i]!;
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (e) {
      throw new UserInputError(`line ${i + 1}: invalid JSON (${(e as Error).message})`, path);
    }
    if (row === null || typeof row !== 'object' || !(field in row)) {
      throw new UserInputError(`line ${i + 1}: no field "${field}" (use --text-field to choose another)`, path);
    }
    const value = (row as Record<string, unknown>)[field];
    if (typeof value !== 'string') throw new UserInputError(`line ${i + 1}: field "${field}" is not a string`, path);
    if (value.trim() !== '') docs.push(value);
  }
  return docs;
}

async function parquetDocs(bytes: Buffer, field: string, path: string, limit: number): Promise<string[]> {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const file = { byteLength: ab.byteLength, slice: (s: number, e?: number) => ab.slice(s, e) };
  let columns: string[];
  try {
    const meta = await parquetMetadataAsync(file);
    columns = parquetSchema(meta).children.map((c) => c.element.name);
  } catch (e) {
    throw new UserInputError(`not a readable Parquet file (${(e as Error).message})`, path);
  }
  if (!columns.includes(field)) {
    throw new UserInputError(`no column "${field}" (columns: ${columns.join(', ')}; use --text-field to choose another)`, path);
  }
  const rows = (await parquetReadObjects({ file, columns: [field] })) as Record<string, unknown>[];
  const docs: string[] = [];
  for (let i = 0; i < rows.length && docs.length < limit; i++) {
    const value = rows[i]![field];
    if (value === null || value === undefined) continue;
    if (typeof value !== 'string') throw new UserInputError(`row ${i}: column "${field}" is not a string`, path);
    if (value.trim() !== '') docs.push(value);
  }
  return docs;
}
