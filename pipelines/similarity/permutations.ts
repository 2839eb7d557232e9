// Row permutations for nulls: seeded (mulberry32 + Fisher–Yates, the same on every machine) or
// given explicitly. A permutation `perm` pairs row i of x with row perm[i] of y (y[perm[i]]),
// the convention of the original code's shuffle and of the reference data.
import { UserInputError } from '../errors.ts';
import { permutationOf, seededRandom } from '../random.ts';

export function seededPermutations(n: number, count: number, seed: number): Int32Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => permutationOf(n, random));
}

/** Checks that each row is a permutation of 0..n-1; `source` names where they came from. */
export function checkPermutations(perms: readonly (ArrayLike<number>)[], n: number, source = 'permutations'): Int32Array[] {
  return perms.map((p, k) => {
    if (p.length !== n) throw new UserInputError(`permutation ${k} has ${p.length} entries, expected ${n} (one per row)`, source);
    const seen = new Uint8Array(n);
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = p[i]!;
      if (!Number.isInteger(v) || v < 0 || v >= n || seen[v]) throw new UserInputError(`permutation ${k} is not a permutation of 0..${n - 1} (entry ${i} = ${v})`, source);
      seen[v] = 1;
      out[i] = v;
    }
    return out;
  });
}
