// Viridis-like sequential colour scale (perceptually ordered, readable by colour-blind people),
// interpolated between a few anchor colours of matplotlib's viridis.
const STOPS: Array<[number, number, number]> = [
  [68, 1, 84], [72, 40, 120], [62, 74, 137], [49, 104, 142], [38, 130, 142],
  [31, 158, 137], [53, 183, 121], [110, 206, 88], [181, 222, 43], [253, 231, 37],
];

/** Colour for t in [0, 1] (clamped) as #rrggbb. */
export function viridis(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const c = STOPS[i]!.map((v, k) => Math.round(v + (STOPS[i + 1]![k]! - v) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

/** Dark text on light cells, light text on dark ones. */
export function textColorOn(t: number): string {
  return t > 0.55 ? '#111' : '#f4f4f4';
}
