// Benjamini–Hochberg q-values: a sweep tests every (layer pair × subspace × metric), so p ≤ 0.05
// in one cell of hundreds says little; q controls the false discovery rate over all of them.
//   q_(i) = min_{j ≥ i} min(1, m·p_(j) / j)    over the m finite p-values sorted ascending
// (the step-up rule, as R's p.adjust(method = "BH")). Tied p-values get the same q (the minimum
// over j ≥ i reaches the last of the tie). Entries that are not finite (skipped scores) are not
// tested: they count neither in m nor get a q (NaN out).

export function benjaminiHochberg(p: readonly number[]): number[] {
  const tested = [...p.keys()].filter((i) => Number.isFinite(p[i]!));
  for (const i of tested) if (p[i]! < 0 || p[i]! > 1) throw new RangeError(`p-value ${p[i]} at ${i} is outside [0, 1]`);
  const m = tested.length;
  const order = tested.sort((a, b) => p[a]! - p[b]! || a - b);
  const q = new Array<number>(p.length).fill(Number.NaN);
  let running = 1;
  for (let rank = m; rank >= 1; rank--) {
    const i = order[rank - 1]!;
    running = Math.min(running, (m * p[i]!) / rank);
    q[i] = running;
  }
  return q;
}
