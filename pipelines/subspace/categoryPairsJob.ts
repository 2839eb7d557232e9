// The semantic subspaces' within-category pairings as one compute job: both sides' residuals and
// SAEs are loaded in the compute thread (pairJob.ts's `side`) and every category is paired there,
// so none of the chunks (tokens × category features, ~90 MB each at 8192 × 2700) crosses a thread
// boundary; from the activity's thread each kernel call copied its feeds over.
import type { JobContext } from '../kernels/computeThread.ts';
import { side, type PairJobSide } from '../pair/pairJob.ts';
import type { CorrelationKind } from '../pair/streamingCorrelation.ts';
import type { EncodeMode } from '../sae/types.ts';
import { pairWithinCategory, type CategoryFeatures, type CategoryPairs } from './pairWithinCategory.ts';

export const CATEGORY_PAIRS_JOB = new URL(import.meta.url);

export interface CategoryPairsJobArgs {
  a: PairJobSide;
  b: PairJobSide;
  encode: EncodeMode;
  kind: CorrelationKind;
  categories: CategoryFeatures[];
}

/** Reported after each category: how many are paired. */
export interface CategoryPairsProgress {
  done: number;
  total: number;
}

export async function categoryPairsJob(args: CategoryPairsJobArgs, ctx: JobContext): Promise<CategoryPairs[]> {
  const a = await side(args.a, args.encode);
  const b = await side(args.b, args.encode);
  const out: CategoryPairs[] = [];
  for (const c of args.categories) {
    out.push(await pairWithinCategory(a.source, b.source, c.featuresA, c.featuresB, { kind: args.kind }));
    ctx.progress({ done: out.length, total: args.categories.length } satisfies CategoryPairsProgress);
  }
  return out;
}
