// Turns what a user points at — an artifact id, or a row of a results table written as
// `results.parquet#<row>` (0-based) — into the artifact id that row's scores came from.
import { existsSync } from 'node:fs';
import { isArtifactId } from './artifactId.ts';
import { readParquetTable, type ParquetTable } from './parquet.ts';
import { UserInputError } from '../pipelines/errors.ts';

/** Column names a results table may use for the artifact id of its row, in order of preference. */
export const ARTIFACT_ID_COLUMNS = ['artifact_id', 'artifactId', 'artifact'] as const;

export async function artifactIdOfRow(path: string, row: number): Promise<string> {
  if (!existsSync(path)) throw new UserInputError('no such file', path);
  let table: ParquetTable;
  try {
    table = await readParquetTable(path);
  } catch (e) {
    throw new UserInputError(`not a readable Parquet file (${(e as Error).message})`, path);
  }
  const column = ARTIFACT_ID_COLUMNS.find((c) => c in table.columns);
  if (!column) throw new UserInputError(`has no artifact id column (looked for ${ARTIFACT_ID_COLUMNS.join(', ')})`, path);
  if (row >= table.numRows) {
    throw new UserInputError(`row ${row} does not exist (the table has ${table.numRows} rows, numbered from 0)`, path);
  }
  const id = table.columns[column]![row];
  if (typeof id !== 'string' || !isArtifactId(id)) {
    throw new UserInputError(`row ${row} column ${column} holds '${String(id)}', not an artifact id`, path);
  }
  return id;
}

/** `<id>` or `<table.parquet>#<row>`. */
export async function resolveArtifactRef(ref: string): Promise<string> {
  const hash = ref.lastIndexOf('#');
  if (hash < 0) {
    if (!isArtifactId(ref)) throw new UserInputError(`'${ref}' is neither an artifact id (stage-<16 hex>) nor <table.parquet>#<row>`);
    return ref;
  }
  const path = ref.slice(0, hash);
  const rowText = ref.slice(hash + 1);
  if (!/^\d+$/.test(rowText)) throw new UserInputError(`row '${rowText}' in '${ref}' is not a non-negative integer`);
  return artifactIdOfRow(path, Number(rowText));
}
