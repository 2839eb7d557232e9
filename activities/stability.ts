// Pairing stability of one layer pair (gpu queue, like pairing: it encodes both sides twice):
// the correlation pairing and filter chain on each half of the corpus, partner agreement and
// kept-set Jaccard against the independence null (pipelines/stability). Runs as a compute job.
import { runComputeJob } from '../pipelines/kernels/session.ts';
import { STABILITY_JOB, type StabilityJobArgs } from '../pipelines/stability/stabilityJob.ts';
import type { PairingStability } from '../pipelines/stability/pairingStability.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import { codeVersionFor } from '../storage/artifactId.ts';
import type { ArtifactStore } from '../storage/store.ts';
import { runActivity } from './context.ts';
import { layerPairPaths } from './layerData.ts';
import { produce, readJsonArtifact } from './storeAccess.ts';
import type { LayerPairInput, StabilityActivityResult } from './types.ts';

export const STABILITY_FILE = 'stability.json';

export function stabilitySpec(input: LayerPairInput & { stability: NonNullable<SweepConfig['stability']> }) {
  return {
    stage: 'stability',
    codeVersion: codeVersionFor('stability'),
    params: {
      layerA: input.a.layer,
      layerB: input.b.layer,
      compat: input.compat,
      encode: input.pairing.encode,
      minCorrelation: input.pairing.minCorrelation,
      minActivations: input.pairing.minActivations,
      permutations: input.stability.permutations,
      seed: input.stability.seed,
    },
    inputs: [input.a.extractId, input.b.extractId, input.a.saeId, input.b.saeId, input.a.tokenizerId],
  };
}

export function readStability(store: ArtifactStore, id: string): Promise<PairingStability> {
  return readJsonArtifact<PairingStability>(store, id, STABILITY_FILE);
}

export function stabilityActivity(store: ArtifactStore) {
  return (input: LayerPairInput): Promise<StabilityActivityResult> =>
    runActivity(async (progress) => {
      if (!input.stability) throw new Error('stability was not configured for this layer pair');
      const { manifest, reused } = await produce(store, stabilitySpec({ ...input, stability: input.stability }), async (writer) => {
        const { a, b, tokens, follows } = await layerPairPaths(store, input);
        const args: StabilityJobArgs = {
          a,
          b,
          tokens,
          follows: Array.from(follows),
          encode: input.pairing.encode,
          mode: input.compat,
          minCorrelation: input.pairing.minCorrelation,
          minActivations: input.pairing.minActivations,
          permutations: input.stability!.permutations,
          seed: input.stability!.seed,
        };
        progress.report({ tokens: tokens.length });
        const result = await runComputeJob<StabilityJobArgs, PairingStability>(STABILITY_JOB, 'stabilityJob', args);
        await writer.writeJson(STABILITY_FILE, result);
        return { counts: { tokens: result.numTokens, split: result.split, eligible: result.eligible, agreeing: result.agreeing, keptFirst: result.kept[0], keptSecond: result.kept[1] } };
      });
      const s = await readStability(store, manifest.id);
      return { id: manifest.id, reused, partner: { observed: s.partner.observed, p: s.partner.p }, jaccard: { observed: s.jaccard.observed, p: s.jaccard.p } };
    });
}
