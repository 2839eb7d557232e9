// On `ufg sweep resume`: which layer pairs an earlier run of the sweep finished the resumed run can
// take over without running them again. A pair qualifies when the ids its artifacts (pairing,
// similarity, subspaces, feature map, and the selection null, bootstrap, retrieval and stability
// where the sweep asks for them)
// get from today's inputs and today's code are the ones it recorded, and all are complete in the
// store; a pair whose SAE or extraction changed, or whose stage code moved on, runs again (a pair
// finished before retrieval and stability existed runs again for them, reusing the rest).
import { artifactId } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { featureMapSpec } from './featureMap.ts';
import { pairShiftSpec, pairSpec } from './pair.ts';
import { retrievalSpec } from './retrieval.ts';
import { stabilitySpec } from './stability.ts';
import { selectionSpec } from './selection.ts';
import { bootstrapSpec } from './bootstrap.ts';
import { scoresSpec } from './scores.ts';
import { subspacesSpec } from './subspaces.ts';
import type { FinishedPairCandidate } from './types.ts';

/** Indices of the candidates that are still finished. */
export function finishedPairsActivity(store: ArtifactStore) {
  return (candidates: FinishedPairCandidate[]): Promise<number[]> =>
    runActivity(async () => {
      const still: number[] = [];
      for (const [i, { input, outcome }] of candidates.entries()) {
        const pairId = artifactId(pairSpec(input));
        const scoresId = artifactId(scoresSpec(input, pairId));
        const subspacesId = artifactId(subspacesSpec(input, pairId));
        const mapId = artifactId(featureMapSpec(input, { pairId, scoresId, subspacesId }));
        const recorded: (string | undefined)[] = [outcome.pairId, outcome.scoresId, outcome.subspacesId, outcome.mapId];
        const now = [pairId, scoresId, subspacesId, mapId];
        // With the selection null asked for, its artifact must be there too (and a pair finished
        // without it runs again: every artifact it has is found, only the shifts are computed).
        if ((input.similarity.null ?? ['rows']).includes('selection')) {
          const shifts = Array.from({ length: input.similarity.selectionShifts ?? 0 }, (_, k) => ({ shift: k + 1, id: artifactId(pairShiftSpec(input, k + 1)) }));
          recorded.push(outcome.selectionId ?? '');
          now.push(artifactId(selectionSpec(input, pairId, shifts)));
        }
        if (input.similarity.bootstrap !== undefined) {
          recorded.push(outcome.bootstrapId ?? '');
          now.push(artifactId(bootstrapSpec(input, pairId, scoresId)));
        }
        if (input.retrieval?.enabled) {
          recorded.push(outcome.retrievalId);
          now.push(artifactId(retrievalSpec({ ...input, retrieval: input.retrieval }, pairId)));
        }
        if (input.stability?.enabled) {
          recorded.push(outcome.stabilityId);
          now.push(artifactId(stabilitySpec({ ...input, stability: input.stability })));
        }
        if (now.some((id, k) => id !== recorded[k])) continue;
        if ((await Promise.all(now.map((id) => store.has(id)))).every(Boolean)) still.push(i);
      }
      return still;
    });
}
