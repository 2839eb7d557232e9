// Retrieval of one layer pair as a compute job (kernels/session.ts): the decoders are loaded and
// the maps fitted inside a compute thread, so neither the ONNX products nor the small dense
// decompositions hold the activity's event loop.
import { loadSae } from '../sae/index.ts';
import { crossModelRetrieval, type RetrievalOptions, type RetrievalResult } from './retrieval.ts';

export const RETRIEVAL_JOB = new URL(import.meta.url);

export interface RetrievalJobArgs {
  saePathA: string;
  saePathB: string;
  pairsA: number[];
  pairsB: number[];
  options: RetrievalOptions;
}

export async function retrievalJob(args: RetrievalJobArgs): Promise<RetrievalResult> {
  const a = await loadSae(args.saePathA), b = await loadSae(args.saePathB);
  return crossModelRetrieval(
    { data: a.wDec, rows: a.numFeatures, cols: a.dIn },
    { data: b.wDec, rows: b.numFeatures, cols: b.dIn },
    args.pairsA,
    args.pairsB,
    args.options,
  );
}
