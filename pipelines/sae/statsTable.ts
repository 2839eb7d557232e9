// Feature statistics as a Parquet table, one row per feature: feature (INT32), mean, std,
// frequency, max (DOUBLE), then top_position_1..k (INT64 global token index, −1 = none) and
// top_value_1..k (DOUBLE, NaN where the position is −1).
import { readParquetTable, writeParquetTable, type ParquetColumn } from '../../storage/parquet.ts';
import type { FeatureStats } from './featureStats.ts';

export async function writeFeatureStatsTable(path: string, stats: FeatureStats, kv: Record<string, string> = {}): Promise<void> {
  const F = stats.numFeatures;
  const k = stats.topK;
  const columns: ParquetColumn[] = [
    { name: 'feature', type: 'INT32', data: Int32Array.from({ length: F }, (_, i) => i) },
    { name: 'mean', type: 'DOUBLE', data: stats.mean },
    { name: 'std', type: 'DOUBLE', data: stats.std },
    { name: 'frequency', type: 'DOUBLE', data: stats.frequency },
    { name: 'max', type: 'DOUBLE', data: stats.max },
  ];
  for (let i = 0; i < k; i++) {
    columns.push({ name: `top_position_${i + 1}`, type: 'INT64', data: BigInt64Array.from({ length: F }, (_, f) => BigInt(stats.topPositions[f * k + i]!)) });
  }
  for (let i = 0; i < k; i++) {
    columns.push({
      name: `top_value_${i + 1}`,
      type: 'DOUBLE',
      data: Float64Array.from({ length: F }, (_, f) => (stats.topPositions[f * k + i]! < 0 ? NaN : stats.topValues[f * k + i]!)),
    });
  }
  await writeParquetTable(path, columns, { ...kv, ufg_num_tokens: String(stats.numTokens), ufg_top_k: String(k) });
}

export async function readFeatureStatsTable(path: string): Promise<FeatureStats> {
  const t = await readParquetTable(path);
  const F = t.numRows;
  let k = 0;
  while (`top_position_${k + 1}` in t.columns) k++;
  const num = (name: string) => Float64Array.from(t.columns[name]!, (v) => Number(v));
  const topPositions = new Int32Array(F * k);
  const topValues = new Float32Array(F * k);
  for (let i = 0; i < k; i++) {
    const pos = t.columns[`top_position_${i + 1}`]!;
    const val = t.columns[`top_value_${i + 1}`]!;
    for (let f = 0; f < F; f++) {
      topPositions[f * k + i] = Number(pos[f]);
      topValues[f * k + i] = topPositions[f * k + i]! < 0 ? -Infinity : Number(val[f]);
    }
  }
  return {
    numFeatures: F,
    numTokens: Number(t.kv.ufg_num_tokens ?? NaN),
    topK: k,
    mean: num('mean'),
    std: num('std'),
    frequency: num('frequency'),
    max: num('max'),
    topPositions,
    topValues,
  };
}
