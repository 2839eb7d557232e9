// `ufg similarity --a A.npy --b B.npy`: paired rows (row i of A ↔ row i of B, e.g. the decoder
// rows of paired features) scored by each requested measure against a permutation null: observed,
// null mean and sd, the effect (observed − null mean)/null sd, p, the smallest p the null can give,
// and whether the score is saturated (uninformative by construction at this n) and why.
import { intOption, parseOptions, requireOption } from '../args.ts';
import { UserInputError } from '../../pipelines/errors.ts';
import type { Mat } from '../../pipelines/kernels/gemm.ts';
import { MEASURE_NAMES, measureByName } from '../../pipelines/similarity/registry.ts';
import { permutationNull, type NullResult } from '../../pipelines/similarity/permutationNull.ts';
import type { Measure } from '../../pipelines/similarity/types.ts';
import { applyDeviceOption, readNpyOption } from '../inputs.ts';

export const summary = 'score two paired matrices (.npy, rows = features) with SVCCA, RSA, CKA… against permutation nulls';

const DEFAULT_METRICS = 'svcca,rsa';

export const help = `usage: ufg similarity --a A.npy --b B.npy [--metrics ${MEASURE_NAMES.join(',')}]
                      [--permutations N] [--seed S] [--k K] [--compat reference] [--device cpu|cuda] [--json]
  rows are paired items (row i of A ↔ row i of B), columns are dimensions (widths may differ)
  default metrics: ${DEFAULT_METRICS}; --permutations 1000 (0 = observed scores only)
  --compat reference: p = mean(null ≥ observed) as the original code (default (1 + #)/(1 + N))
  effect = (observed − null mean) / null sd (for procrustes, a distance, negative = more similar);
  saturated = the score is uninformative by construction at this n (the reason is given)`;

function rowsIdentical(m: Mat): boolean {
  for (let i = m.cols; i < m.data.length; i++) if (m.data[i] !== m.data[i % m.cols]) return false;
  return true;
}

/** Checks that name the file: measures only know "x" and "y". */
function checkForMeasure(measure: Measure, a: Mat, b: Mat, pathA: string, pathB: string): void {
  if (a.rows < measure.minRows) throw new UserInputError(`${measure.name} needs at least ${measure.minRows} paired rows, the file has ${a.rows}`, pathA);
  if (measure.equalWidths && a.cols !== b.cols) {
    throw new UserInputError(`${measure.name} matches columns one to one: ${pathA} has ${a.cols} columns, ${pathB} has ${b.cols}`, pathB);
  }
}

type JsonScore = Record<string, number | string | boolean | null>;

/** NaN (e.g. the null statistics of 0 permutations) becomes null in JSON. */
function jsonScores(r: NullResult): JsonScore {
  const num = (v: number | null): number | null => (v !== null && Number.isFinite(v) ? v : null);
  return {
    observed: num(r.observed),
    nullMean: num(r.nullMean),
    nullSd: num(r.nullSd),
    effect: num(r.effect),
    p: num(r.p),
    pFloor: r.pFloor,
    permutations: r.permutations,
    saturated: r.saturated,
    saturatedReason: r.saturatedReason ?? null,
    ...(r.extras ?? {}),
  };
}

const CORE_FIELDS = ['observed', 'nullMean', 'nullSd', 'effect', 'p', 'pFloor', 'permutations', 'saturated', 'saturatedReason'];

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    a: { type: 'string' },
    b: { type: 'string' },
    metrics: { type: 'string', default: DEFAULT_METRICS },
    permutations: { type: 'string' },
    seed: { type: 'string' },
    k: { type: 'string' },
    compat: { type: 'string' },
    device: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  if (values.compat !== undefined && values.compat !== 'reference') throw new UserInputError(`--compat accepts only 'reference', got '${values.compat}'`);
  applyDeviceOption(values.device);
  const measures = values.metrics
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(measureByName);
  if (measures.length === 0) throw new UserInputError('--metrics names no metric');
  const permutations = intOption(values.permutations, 'permutations', 1000);
  const seed = intOption(values.seed, 'seed', 0);
  const k = values.k === undefined ? undefined : intOption(values.k, 'k', 10);
  if (k === 0) throw new UserInputError('--k must be at least 1');

  const pathA = requireOption(values.a, 'a'), pathB = requireOption(values.b, 'b');
  const a = await readNpyOption(pathA, 'a');
  const b = await readNpyOption(pathB, 'b');
  if (a.rows !== b.rows) throw new UserInputError(`rows must be paired: ${pathA} has ${a.rows} rows, ${pathB} has ${b.rows}`, pathB);
  for (const m of measures) checkForMeasure(m, a, b, pathA, pathB);
  for (const [m, path] of [[a, pathA], [b, pathB]] as const) {
    if (rowsIdentical(m)) throw new UserInputError(`all ${m.rows} rows are identical: there is no variance to compare`, path);
  }

  const scores: Record<string, JsonScore> = {};
  for (const m of measures) {
    const r = await permutationNull(m, a, b, { permutations, seed, pValue: values.compat === 'reference' ? 'reference' : 'described', measure: k === undefined ? {} : { k } });
    scores[m.name] = jsonScores(r);
  }
  const result = { rows: a.rows, colsA: a.cols, colsB: b.cols, permutations, seed, pValue: values.compat === 'reference' ? 'reference' : 'described', metrics: scores };
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    console.log(`${a.rows} paired rows, ${a.cols} × ${b.cols} columns, ${permutations} permutations (seed ${seed})`);
    const fmt = (v: unknown): string => (typeof v === 'number' ? v.toFixed(4) : 'n/a');
    const signed = (v: unknown): string => (typeof v === 'number' ? `${v >= 0 ? '+' : ''}${v.toFixed(2)}` : 'n/a');
    for (const [name, s] of Object.entries(scores)) {
      const extra = Object.entries(s)
        .filter(([key]) => !CORE_FIELDS.includes(key))
        .map(([key, v]) => ` ${key}=${v}`)
        .join('');
      const p = typeof s.p === 'number' ? s.p.toPrecision(3) : 'n/a';
      console.log(`${name.padEnd(16)} ${fmt(s.observed)}  null ${fmt(s.nullMean)} ± ${fmt(s.nullSd)}  effect ${signed(s.effect)}  p ${p}${extra}`);
      if (s.saturated) console.log(`${''.padEnd(16)} saturated: ${s.saturatedReason}`);
      if (typeof s.pFloor === 'number' && s.pFloor > 0.05 && permutations > 0) console.log(`${''.padEnd(16)} note: this null cannot give p below ${s.pFloor.toPrecision(2)}`);
    }
  }
  return 0;
}
