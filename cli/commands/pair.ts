// `ufg pair --a A.npy --b B.npy`: pair the features of two activation matrices (rows = tokens)
// by correlation: greedy best match per feature, or one-to-one (Hungarian, entropic OT) on a pool.
import { intOption, parseOptions, requireOption } from '../args.ts';
import { UserInputError } from '../../pipelines/errors.ts';
import type { Mat } from '../../pipelines/kernels/gemm.ts';
import { matrixSource } from '../../pipelines/pair/activationSource.ts';
import { correlateFeatures, type CorrelationKind } from '../../pipelines/pair/streamingCorrelation.ts';
import { DEFAULT_POOL_SIZE, mostActiveFeatures, pairOneToOne } from '../../pipelines/pair/oneToOne.ts';
import { applyDeviceOption, readNpyOption } from '../inputs.ts';

export const summary = 'pair the features of two activation matrices (.npy, rows = tokens) by correlation';

const METHODS = ['greedy', 'hungarian', 'ot'] as const;
type Method = (typeof METHODS)[number];

export const help = `usage: ufg pair --a A.npy --b B.npy [--method greedy|hungarian|ot] [--compat reference]
                [--pool N] [--epsilon E] [--memory-mb MB] [--device cpu|cuda] [--json]`;

async function loadActivations(path: string, side: string): Promise<Mat> {
  const m = await readNpyOption(path, side);
  if (m.rows < 2) throw new UserInputError(`needs at least 2 rows (tokens), has ${m.rows}`, path);
  return m;
}

/** NaN (unassigned) becomes null in JSON. */
function numbers(xs: ArrayLike<number>): (number | null)[] {
  return Array.from(xs, (v) => (Number.isNaN(v) ? null : v));
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    a: { type: 'string' },
    b: { type: 'string' },
    method: { type: 'string', default: 'greedy' },
    compat: { type: 'string' },
    pool: { type: 'string' },
    epsilon: { type: 'string' },
    'memory-mb': { type: 'string' },
    device: { type: 'string' },
    json: { type: 'boolean', default: false },
  });
  const method = values.method as Method;
  if (!METHODS.includes(method)) throw new UserInputError(`--method must be one of ${METHODS.join(', ')}, got '${values.method}'`);
  if (values.compat !== undefined && values.compat !== 'reference') throw new UserInputError(`--compat accepts only 'reference', got '${values.compat}'`);
  applyDeviceOption(values.device);
  const kind: CorrelationKind = values.compat === 'reference' ? 'reference' : 'pearson';
  const poolSize = intOption(values.pool, 'pool', DEFAULT_POOL_SIZE);
  const memoryBudgetBytes = intOption(values['memory-mb'], 'memory-mb', 1024) * 2 ** 20;
  const epsilon = values.epsilon === undefined ? undefined : Number(values.epsilon);
  if (epsilon !== undefined && !(epsilon > 0)) throw new UserInputError(`--epsilon must be a positive number, got '${values.epsilon}'`);

  const pathA = requireOption(values.a, 'a'), pathB = requireOption(values.b, 'b');
  const a = await loadActivations(pathA, 'a');
  const b = await loadActivations(pathB, 'b');
  if (a.rows !== b.rows) {
    throw new UserInputError(`token counts differ: ${pathA} has ${a.rows} rows, ${pathB} has ${b.rows} (rows must be the same tokens)`, pathB);
  }
  const srcA = matrixSource(a), srcB = matrixSource(b);

  const greedy = await correlateFeatures(srcA, srcB, { kind, memoryBudgetBytes });
  const base = { method, compat: values.compat ?? 'described', correlation: kind, numTokens: a.rows, numFeaturesA: a.cols, numFeaturesB: b.cols };
  let result: Record<string, unknown>;
  if (method === 'greedy') {
    result = {
      ...base,
      aForEachB: Array.from(greedy.aForEachB),
      corrForEachB: numbers(greedy.corrForEachB),
      bForEachA: Array.from(greedy.bForEachA),
      corrForEachA: numbers(greedy.corrForEachA),
    };
  } else {
    const poolA = mostActiveFeatures(greedy.statsA.mean, poolSize);
    const poolB = mostActiveFeatures(greedy.statsB.mean, poolSize);
    const one = await pairOneToOne(srcA, srcB, {
      method,
      poolA,
      poolB,
      kind,
      memoryBudgetBytes,
      ...(epsilon !== undefined ? { sinkhorn: { epsilon } } : {}),
    });
    result = {
      ...base,
      aForEachB: Array.from(one.aForEachB),
      corrForEachB: numbers(one.corrForEachB),
      bForEachA: Array.from(one.bForEachA),
      corrForEachA: numbers(one.corrForEachA),
      total: one.total,
      poolA,
      poolB,
      ...(one.iterations !== undefined ? { iterations: one.iterations, converged: one.converged } : {}),
    };
  }
  if (values.json) {
    console.log(JSON.stringify(result));
  } else {
    const corr = (result.corrForEachB as (number | null)[]).filter((v): v is number => v !== null);
    const mean = corr.reduce((s, v) => s + v, 0) / Math.max(1, corr.length);
    console.log(`${method} pairing of ${b.cols} B features with ${a.cols} A features over ${a.rows} tokens (${kind} correlation)`);
    console.log(`paired B features: ${corr.length}, mean correlation ${mean.toFixed(4)}, distinct A features ${new Set((result.aForEachB as number[]).filter((x) => x >= 0)).size}`);
    if (typeof result.total === 'number') {
      const what = method === 'hungarian' ? 'total correlation of the assignment' : 'sum of correlations over the hard map';
      console.log(`${what}: ${result.total.toFixed(4)}${result.converged === false ? ' (Sinkhorn did not converge)' : ''}`);
    }
  }
  return 0;
}
