// Data-free pairing (`pairing.method: "decoder"`): feature a of A and feature b of B are paired by
// the cosine of their decoder rows, one to one (Hungarian, max total cosine). Meaningful only when
// both SAEs write into one space — two SAEs of one layer, or layers of one model (the residual
// stream keeps its basis across blocks) — so both must have the same d; there is no common basis
// between two models' residual streams, and no rotation is fitted here.
import { gemm, type Mat } from '../kernels/gemm.ts';
import { UserInputError } from '../errors.ts';
import { gatherRows, unitRows } from '../similarity/matrix.ts';
import { maxWeightAssignment, type Assignment } from './hungarian.ts';

/**
 * What the assignment does not depend on, declared as the similarity measures declare theirs
 * (test/pair.decoder.test.ts checks each declaration both ways): cosines ignore each row's
 * positive scale, and an orthogonal change of basis applied to both sides; a rotation of one side
 * only, or a translation, changes them (hence: one space, no fitted rotation). Relabelling the
 * features of either side relabels the pairs (equivariance).
 */
export const DECODER_PAIRING_PROPERTIES = {
  invariances: { rowScaling: true, sharedOrthogonal: true, oneSideOrthogonal: false, translation: false },
  permutationEquivariant: true,
} as const;

/** What a width mismatch error names for each side. */
export interface DecoderSide {
  dIn: number;
  file: string;
  model: string;
  layer: number;
}

/** Refuse SAEs of different widths before any work: their decoder rows have no common space. */
export function checkDecoderWidths(a: DecoderSide, b: DecoderSide): void {
  if (a.dIn === b.dIn) return;
  throw new UserInputError(
    `pairing.method "decoder" pairs features by the cosine of their decoder rows, so both SAEs must write into one space of one width: ` +
      `${a.file} (${a.model} layer ${a.layer}) has d = ${a.dIn}, ${b.file} (${b.model} layer ${b.layer}) has d = ${b.dIn}; ` +
      `use "greedy", "hungarian" or "ot" (activation correlation) for SAEs of different widths`,
  );
}

/** cos(decA row i, decB row j) for every i, j: an rows(A) × rows(B) ONNX GEMM of the unit rows. */
export async function decoderCosines(decA: Mat, decB: Mat): Promise<Mat> {
  if (decA.cols !== decB.cols) throw new Error(`decoder widths differ: ${decA.cols} vs ${decB.cols}`);
  return gemm(unitRows(decA), unitRows(decB), { transB: true });
}

/** The max-total-cosine one-to-one assignment between the pooled rows of two decoders, and its cosine matrix. */
export async function decoderAssignment(decA: Mat, decB: Mat, poolA: readonly number[], poolB: readonly number[]): Promise<Assignment & { cosines: Mat }> {
  const cosines = await decoderCosines(gatherRows(decA, poolA), gatherRows(decB, poolB));
  return { ...maxWeightAssignment(cosines), cosines };
}
