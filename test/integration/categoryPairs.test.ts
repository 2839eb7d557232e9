// The categories' within-category pairings come from the pairing's own pass and are stored as
// their own artifact, which the subspace stage finds instead of correlating again. When the
// categories change after the pairing (the pair artifact is reused), the subspace stage pairs
// them itself, and a category both runs share gets the same pairs either way.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { startSweep, waitForSweep } from '../../cli/sweepClient.ts';
import type { SweepConfig } from '../../pipelines/config.ts';
import { readSubspaces, type StoredCategory } from '../../activities/subspaces.ts';
import { builtinCategories } from '../../pipelines/subspace/categories.ts';
import { demoSweepSuite, type SweepTestEnv } from '../temporal.env.ts';
import { readManifestJson } from './sweepScenario.ts';

let env: SweepTestEnv;
let demo: SweepConfig;
demoSweepSuite((s) => ({ env, demo } = s));

async function sweep(config: SweepConfig): Promise<{ subspaces: StoredCategory[]; computed: number; pairIds: string[] }> {
  const { workflowId } = await startSweep(env.client, config);
  const outcome = await waitForSweep(env.client, workflowId);
  assert.equal(outcome.layerPairs, 1);
  const [pair] = outcome.pairs;
  const manifest = readManifestJson<{ counts: Record<string, number> }>(env.storeRoot, pair!.subspacesId);
  return { subspaces: await readSubspaces(env.store, pair!.subspacesId), computed: manifest.counts.categoryPairingsComputed ?? -1, pairIds: [pair!.pairId] };
}

test('the subspace stage takes the pairing pass’s category pairings; with other categories it pairs them itself, alike', async () => {
  const config = structuredClone(demo);
  config.models.a.layers = [1];
  config.models.b.layers = [1];
  config.similarity.permutations = 20;
  config.outDir = join(env.dir, 'categories-1');
  const first = await sweep(config);
  assert.equal(first.computed, 0, 'pairings stored by the pair activity');
  const categoryPairIds = (await env.store.list()).filter((id) => id.startsWith('category-pairs-'));
  assert.equal(categoryPairIds.length, 1);
  const paired = first.subspaces.filter((c) => c.pairsA.length > 0);
  assert.ok(paired.length > 0, `some category has pairs: ${first.subspaces.map((c) => `${c.category} ${c.featuresA.length}/${c.featuresB.length}`).join(', ')}`);

  // The same categories that paired, plus one that matches nothing: other feature lists.
  const file = join(env.dir, 'categories.json');
  writeFileSync(file, JSON.stringify({ ...Object.fromEntries(paired.map((c) => [c.category, builtinKeywords(c.category)])), Nothing: ['zzqqxx'] }));
  const again = structuredClone(config);
  again.categories = file;
  again.outDir = join(env.dir, 'categories-2');
  const second = await sweep(again);
  assert.deepEqual(second.pairIds, first.pairIds, 'the pairing was reused');
  assert.equal(second.computed, 1, 'the subspace stage paired the new lists itself');
  for (const c of paired) {
    const d = second.subspaces.find((s) => s.category === c.category)!;
    assert.deepEqual([d.featuresA, d.featuresB], [c.featuresA, c.featuresB], c.category);
    assert.deepEqual([d.pairsA, d.pairsB], [c.pairsA, c.pairsB], `${c.category}: the same pairs from either pass`);
    assert.ok(Math.abs((d.meanCorr ?? 0) - (c.meanCorr ?? 0)) < 1e-5, `${c.category}: mean correlation ${d.meanCorr} vs ${c.meanCorr}`);
  }
  assert.deepEqual(second.subspaces.find((s) => s.category === 'Nothing')?.pairsA, []);
});

function builtinKeywords(category: string): string[] {
  return builtinCategories()[category]!;
}
