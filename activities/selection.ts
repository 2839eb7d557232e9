// The selection-aware null of one layer pair (issue 12): the pairing and every filter re-run with
// B's documents shifted against A's (one `pair-shift` artifact per shift, gpu queue, checkpointed
// like the pairing itself), then the decoder geometry of whatever pairs each shift kept is scored
// (`selection-null` artifact, cpu queue) and the observed score is tested against those scores.
// It keeps every feature's own statistics and destroys only the token correspondence, so it asks
// "more similar than pairing by chance would produce?" where the row-permutation null asks "more
// similar than these pairs in another order?" and ignores that the pairs were selected.
import { loadSae } from '../pipelines/sae/index.ts';
import type { ScoreWithNull } from '../pipelines/pair/pairedScores.ts';
import { MEASURES } from '../pipelines/similarity/registry.ts';
import { MIN_SCORED_SHIFTS, selectionNullScore } from '../pipelines/similarity/selectionNull.ts';
import type { MeasureName } from '../pipelines/similarity/types.ts';
import type { Mat } from '../pipelines/kernels/gemm.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { readKeptPairs, rowsOf } from './layerData.ts';
import { pairShiftSpec, writePairing } from './pair.ts';
import { fullSpaceMeasure, skipReason } from './scores.ts';
import { produce, readJsonArtifact, sourceAt } from './storeAccess.ts';
import type { ArtifactRef, LayerPairInput } from './types.ts';

export const SELECTION_FILE = 'selection.json';

/** A shift's pairing artifact and how many pairs survived its filters. */
export interface ShiftPairing extends ArtifactRef {
  shift: number;
  numPairs: number;
}

/** One metric against the selection null: per shift its score (null: too few pairs to score). */
export type SelectionMetric = {
  metric: MeasureName;
  measure: MeasureName;
  largerIsMoreSimilar: boolean;
  shiftScores: (number | null)[];
} & (ScoreWithNull | { skipped: string });

export interface StoredSelection {
  /** Pairs the real (unshifted) pairing kept. */
  n: number;
  /** In shift order: the shift, its pairing artifact and the pairs it kept. */
  shifts: { shift: number; pairId: string; pairs: number }[];
  scores: SelectionMetric[];
}

export interface SelectionResult extends ArtifactRef {
  shifts: number;
}

export function pairShiftActivity(store: ArtifactStore) {
  return (input: LayerPairInput, shift: number): Promise<ShiftPairing> =>
    runActivity(async (progress) => {
      const { manifest, reused } = await produce(store, pairShiftSpec(input, shift), (writer) => writePairing(store, input, writer, progress, { shift }));
      return { id: manifest.id, reused, shift, numPairs: manifest.counts.afterLowCorrelation ?? 0 };
    });
}

export function selectionSpec(input: LayerPairInput, pairId: string, shifts: readonly Pick<ShiftPairing, 'shift' | 'id'>[]) {
  return {
    stage: 'selection-null',
    codeVersion: codeVersionFor('selection-null'),
    params: { compat: input.compat, metrics: input.similarity.metrics, shifts: shifts.map((s) => s.shift) },
    inputs: [pairId, ...shifts.map((s) => s.id), input.a.saeId, input.b.saeId],
  };
}

/** `metric` on the kept pairs and on every shift's pairs, and the observed score against the shifts'. */
export async function selectionMetric(metric: MeasureName, observed: { x: Mat; y: Mat }, shifted: readonly { x: Mat; y: Mat }[], mode: LayerPairInput['compat']): Promise<SelectionMetric> {
  const measure = fullSpaceMeasure(metric, mode);
  const m = MEASURES[measure];
  const head = { metric, measure, largerIsMoreSimilar: m.properties.largerIsMoreSimilar };
  const score = async (p: { x: Mat; y: Mat }) => (skipReason(metric, measure, p.x.rows, p.x, p.y) ? null : (await m.score(p.x, p.y)).score);
  const shiftScores: (number | null)[] = [];
  for (const p of shifted) shiftScores.push(await score(p));
  const skipped = skipReason(metric, measure, observed.x.rows, observed.x, observed.y);
  if (skipped) return { ...head, shiftScores, skipped };
  const scored = shiftScores.filter((v): v is number => v !== null);
  if (scored.length < MIN_SCORED_SHIFTS) {
    return { ...head, shiftScores, skipped: `${scored.length} of ${shifted.length} document shifts kept enough pairs to score ${metric} (the selection null needs ${MIN_SCORED_SHIFTS}): pairing by chance keeps almost nothing here` };
  }
  const obs = await m.score(observed.x, observed.y);
  const saturatedReason = m.saturation?.(observed.x.rows, obs.extras ?? {}, observed.x, observed.y);
  return {
    ...head,
    shiftScores,
    ...selectionNullScore(obs.score, scored, head.largerIsMoreSimilar),
    saturated: saturatedReason !== undefined,
    ...(saturatedReason !== undefined ? { saturatedReason } : {}),
  };
}

export function selectionNullActivity(store: ArtifactStore) {
  return (input: LayerPairInput, pairId: string, shifts: ShiftPairing[]): Promise<SelectionResult> =>
    runActivity(async (progress) => {
      const { manifest, reused } = await produce(store, selectionSpec(input, pairId, shifts), async (writer) => {
        const saeA = await loadSae(await sourceAt(store, input.a.saeId, input.a.saePath));
        const saeB = await loadSae(await sourceAt(store, input.b.saeId, input.b.saePath));
        const decA = { data: saeA.wDec, rows: saeA.numFeatures, cols: saeA.dIn };
        const decB = { data: saeB.wDec, rows: saeB.numFeatures, cols: saeB.dIn };
        const rows = async (id: string) => {
          const p = await readKeptPairs(store, id);
          return { x: rowsOf(decA, p.a), y: rowsOf(decB, p.b) };
        };
        const observed = await rows(pairId);
        const shifted: { x: Mat; y: Mat }[] = [];
        for (const s of shifts) shifted.push(await rows(s.id));
        const out: StoredSelection = { n: observed.x.rows, shifts: shifts.map((s, i) => ({ shift: s.shift, pairId: s.id, pairs: shifted[i]!.x.rows })), scores: [] };
        for (const metric of input.similarity.metrics) {
          progress.report({ metric });
          out.scores.push(await selectionMetric(metric, observed, shifted, input.compat));
          progress.checkCancelled();
        }
        await writer.writeJson(SELECTION_FILE, out);
        return { counts: { pairs: out.n, shifts: shifts.length, scored: out.scores.filter((s) => !('skipped' in s)).length } };
      });
      return { id: manifest.id, reused, shifts: shifts.length };
    });
}

export function readSelection(store: ArtifactStore, id: string): Promise<StoredSelection> {
  return readJsonArtifact<StoredSelection>(store, id, SELECTION_FILE);
}
