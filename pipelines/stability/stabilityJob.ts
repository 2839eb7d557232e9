// Pairing stability of one layer pair as a compute job: both sides' residuals read into memory and
// SAE-encoded block by block inside the correlation loops, as the pairing job does (pairJob.ts).
import type { EncodeMode } from '../sae/index.ts';
import type { FilterMode } from '../pair/filters.ts';
import { side, type PairJobSide } from '../pair/pairJob.ts';
import { documentSplit, pairingStability, type PairingStability } from './pairingStability.ts';

export const STABILITY_JOB = new URL(import.meta.url);

export interface StabilityJobArgs {
  a: PairJobSide;
  b: PairJobSide;
  tokens: string[];
  /** follows[t] = 1: row t + 1 continues row t's document (the halves split at a document start). */
  follows: number[];
  encode: EncodeMode;
  mode: FilterMode;
  minCorrelation: number;
  minActivations: number;
  permutations: number;
  seed: number;
}

export async function stabilityJob(args: StabilityJobArgs): Promise<PairingStability> {
  const a = await side(args.a, args.encode);
  const b = await side(args.b, args.encode);
  return pairingStability(a.source, b.source, args.tokens, documentSplit(args.follows), {
    mode: args.mode,
    minCorrelation: args.minCorrelation,
    minActivations: args.minActivations,
    permutations: args.permutations,
    seed: args.seed,
  });
}
