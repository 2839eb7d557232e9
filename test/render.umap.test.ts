import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mat } from '../pipelines/kernels/gemm.ts';
import { buildFeatureMap, selectRows } from '../pipelines/render/buildFeatureMap.ts';
import { cosineKnn } from '../pipelines/render/cosineKnn.ts';
import { seededRandom } from '../pipelines/random.ts';
import { umapLayout } from '../pipelines/render/umapLayout.ts';
import { CATEGORIES, syntheticMapInput } from './browser/syntheticMap.ts';

function randomMat(rows: number, cols: number, seed: number) {
  const r = seededRandom(seed);
  return mat(rows, cols, Float32Array.from({ length: rows * cols }, () => r() * 2 - 1));
}

test('seededRandom is deterministic per seed and uniform-ish in [0, 1)', () => {
  const a = seededRandom(5);
  const b = seededRandom(5);
  const xs = Array.from({ length: 2000 }, () => a());
  assert.deepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => b()));
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.03, `mean ${mean}`);
  assert.notEqual(seededRandom(6)(), seededRandom(5)());
});

test('cosineKnn matches a brute-force cosine search', async () => {
  const m = randomMat(40, 7, 1);
  const k = 5;
  const knn = await cosineKnn(m, k);
  const row = (i: number) => Array.from(m.data.subarray(i * 7, i * 7 + 7));
  const cos = (x: number[], y: number[]) => {
    const dot = x.reduce((s, v, j) => s + v * y[j]!, 0);
    return dot / Math.hypot(...x) / Math.hypot(...y);
  };
  for (let i = 0; i < 40; i++) {
    const others = Array.from({ length: 40 }, (_, j) => j)
      .filter((j) => j !== i)
      .map((j) => ({ j, d: 1 - cos(row(i), row(j)) }))
      .sort((p, q) => p.d - q.d);
    assert.equal(knn.indices[i]![0], i);
    assert.equal(knn.distances[i]![0], 0);
    assert.deepEqual(knn.indices[i]!.slice(1), others.slice(0, k - 1).map((o) => o.j));
    knn.distances[i]!.slice(1).forEach((d, t) => assert.ok(Math.abs(d - others[t]!.d) < 1e-5));
  }
});

test('cosineKnn is exact across its 1 024-row blocks', async () => {
  const n = 1100;
  const d = 4;
  const m = randomMat(n, d, 4);
  const knn = await cosineKnn(m, 3);
  const unit = (i: number) => {
    const r = Array.from(m.data.subarray(i * d, i * d + d));
    const len = Math.hypot(...r);
    return r.map((v) => v / len);
  };
  for (const i of [0, 1023, 1024, 1099]) {
    const u = unit(i);
    const best = Array.from({ length: n }, (_, j) => j)
      .filter((j) => j !== i)
      .map((j) => ({ j, s: unit(j).reduce((acc, v, t) => acc + v * u[t]!, 0) }))
      .sort((p, q) => q.s - p.s);
    assert.deepEqual(knn.indices[i], [i, best[0]!.j, best[1]!.j], `row ${i}`);
  }
});

test('umapLayout is deterministic for a seed and keeps clusters apart', async () => {
  // Three well-separated directions, 20 noisy copies each.
  const r = seededRandom(9);
  const d = 12;
  const rows = 60;
  const data = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) for (let j = 0; j < d; j++) data[i * d + j] = (j % 3 === i % 3 ? 3 : 0) + 0.3 * (r() - 0.5);
  const m = mat(rows, d, data);
  const one = await umapLayout(m, { seed: 1, nEpochs: 150 });
  const again = await umapLayout(m, { seed: 1, nEpochs: 150 });
  const other = await umapLayout(m, { seed: 2, nEpochs: 150 });
  assert.deepEqual(one, again);
  assert.notDeepEqual(one, other);
  const dist = (p: number, q: number) => Math.hypot(one[p]![0] - one[q]![0], one[p]![1] - one[q]![1]);
  let intra = 0;
  let inter = 0;
  let ni = 0;
  let no = 0;
  for (let p = 0; p < rows; p++)
    for (let q = p + 1; q < rows; q++) {
      if (p % 3 === q % 3) (intra += dist(p, q)), ni++;
      else (inter += dist(p, q)), no++;
    }
  assert.ok(intra / ni < 0.5 * (inter / no), `intra ${intra / ni} inter ${inter / no}`);
});

test('selectRows keeps the strongest pairs first and never exceeds the cap', () => {
  const pairs = [
    { a: 0, b: 3, correlation: 0.2 },
    { a: 1, b: 2, correlation: 0.9 },
    { a: 2, b: 0, correlation: -0.95 },
    { a: 3, b: 1, correlation: 0.5 },
  ];
  const s = selectRows(5, 5, pairs, 2);
  assert.deepEqual(s.keepA, [2, 1]);
  assert.deepEqual(s.keepB, [0, 2]);
  assert.deepEqual(s.pairs, [
    { a: 1, b: 1, correlation: 0.9 },
    { a: 0, b: 0, correlation: -0.95 },
  ]);
  const all = selectRows(3, 4, pairs.slice(0, 2), 10);
  assert.deepEqual(all.keepA, [1, 0, 2]);
  assert.deepEqual(all.keepB, [2, 3, 0, 1]);
});

test('buildFeatureMap: points, pairs and groups from labels; same input, same map', async () => {
  const input = syntheticMapInput(40, 8, 3);
  const one = await buildFeatureMap(input);
  const two = await buildFeatureMap(input);
  assert.deepEqual(one, two);
  assert.equal(one.pointsA.length, 40);
  assert.equal(one.pairs.length, 40);
  for (const p of one.pairs) {
    // Pairs point at the same features as the input pairs (rows were reordered by strength).
    const orig = input.pairs.find((q) => input.sideA.featureIds[q.a] === one.pointsA[p.a]!.id)!;
    assert.equal(one.pointsB[p.b]!.id, input.sideB.featureIds[orig.b]);
    assert.equal(p.correlation, orig.correlation);
  }
  assert.deepEqual(one.groups.map((g) => g.name), Object.keys(CATEGORIES));
  const nature = one.groups.find((g) => g.name === 'Nature')!;
  const words = new Set(CATEGORIES.Nature);
  for (const p of one.pointsA) {
    const has = p.label.split(',').some((w) => words.has(w.trim().toLowerCase()));
    assert.equal(nature.a.includes(p.id), has, `feature ${p.id} '${p.label}'`);
  }
  assert.ok(one.pointsA.some((p) => p.category === 'Nature'));
  const capped = await buildFeatureMap({ ...input, maxPoints: 10 });
  assert.equal(capped.pointsA.length, 10);
  assert.equal(capped.pairs.length, 10);
  const top = [...input.pairs].sort((p, q) => q.correlation - p.correlation).slice(0, 10).map((p) => p.correlation);
  assert.deepEqual(capped.pairs.map((p) => p.correlation).sort((x, y) => y - x), top);
});
