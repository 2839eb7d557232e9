// Small seeded feature-map inputs for the render tests: two decoder matrices whose rows share
// cluster structure (B's rows are a rotated, noisy copy of A's), word labels drawn so that the
// test categories match some features, and one label that is an XSS attempt.
import { mat } from '../../pipelines/kernels/gemm.ts';
import type { FeatureMapInput } from '../../pipelines/render/buildFeatureMap.ts';
import { seededRandom } from '../../pipelines/random.ts';

export const XSS_LABEL = '<img src=x onerror="window.__xss=1;alert(1)">, </script><script>window.__xss=2</script>';

export const CATEGORIES = {
  Nature: ['river', 'mountain', 'tree', 'forest'],
  Time: ['monday', 'morning', 'year', 'hour'],
  'People & <Roles>': ['teacher', 'mother', 'king'],
};

const WORDS = ['river', 'mountain', 'tree', 'forest', 'monday', 'morning', 'year', 'hour', 'teacher', 'mother', 'king',
  'the', 'of', 'run', 'blue', 'data', 'ing', 'house', 'music', 'code'];

function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

export function syntheticMapInput(n = 120, d = 16, seed = 7): FeatureMapInput {
  const rand = seededRandom(seed);
  const clusters = 9;
  const centres = Array.from({ length: clusters }, () => Array.from({ length: d }, () => gaussian(rand) * 1.6));
  const a = new Float32Array(n * d);
  const b = new Float32Array(n * d);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [perm[i], perm[j]] = [perm[j]!, perm[i]!];
  }
  const labelsA: string[] = [];
  const labelsB: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = centres[i % clusters]!;
    for (let k = 0; k < d; k++) a[i * d + k] = c[k]! + gaussian(rand);
    // B row perm[i] is A row i with the coordinates cycled (a rotation) plus noise.
    for (let k = 0; k < d; k++) b[perm[i]! * d + k] = a[i * d + ((k + 3) % d)]! + 0.5 * gaussian(rand);
    const w1 = WORDS[Math.floor(rand() * WORDS.length)]!;
    const w2 = WORDS[Math.floor(rand() * WORDS.length)]!;
    labelsA.push(i === 5 ? XSS_LABEL : `${w1}, ${w2}`);
    labelsB[perm[i]!] = `${w1}, ${WORDS[(i * 7) % WORDS.length]}`;
  }
  const pairs = Array.from({ length: n }, (_, i) => ({ a: i, b: perm[i]!, correlation: 0.15 + 0.8 * rand() }));
  const metric = (o: number) => ({ observed: o, nullMean: 0.05, nullSd: 0.02, p: 1 / 1001 });
  return {
    title: 'Synthetic <b>pair</b> & test',
    sideA: { model: 'synthetic/a-<model>', layer: 3, sae: 'sparsify k=32', decoder: mat(n, d, a), featureIds: perm.map((_, i) => 1000 + i), labels: labelsA },
    sideB: { model: 'synthetic/b', layer: 4, decoder: mat(n, d, b), featureIds: perm.map((_, i) => 5000 + i), labels: labelsB },
    method: 'hungarian',
    pairs,
    categories: CATEGORIES,
    metrics: {
      selection: { cka: metric(0.71), rsa: metric(0.42), procrustes: metric(0.33), svcca: metric(0.64) },
      groups: { Nature: { svcca: metric(0.55), rsa: { observed: 0.1, nullMean: 0.08, nullSd: 0.05, p: 0.31 } } },
    },
    provenance: { pairs: 'pairs-3f2a91', scores: 'scores-77bc01', decoderA: 'sae-a-1d2e', decoderB: 'sae-b-9c0f' },
    umap: { seed: 11, nEpochs: 200 },
  };
}
