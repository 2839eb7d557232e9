// Semantic groups from labels: a feature belongs to a category when one of its label words
// equals one of the category's keywords, case-insensitively (docs/design.md, semantic subspaces).
import type { FeatureMapData, MapPoint, SemanticGroup } from './types.ts';

export type Categories = Record<string, string[]>;

export function labelWords(label: string): string[] {
  return label
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter((w) => w.length > 0);
}

/** Names of every category the label falls in, in the categories' order. */
export function categoriesOf(label: string, categories: Categories): string[] {
  const words = new Set(labelWords(label));
  return Object.entries(categories)
    .filter(([, keywords]) => keywords.some((k) => words.has(k.trim().toLowerCase())))
    .map(([name]) => name);
}

export function groupsFromLabels(pointsA: MapPoint[], pointsB: MapPoint[], categories: Categories): SemanticGroup[] {
  return Object.keys(categories).map((name) => ({
    name,
    a: pointsA.filter((p) => categoriesOf(p.label, categories).includes(name)).map((p) => p.id),
    b: pointsB.filter((p) => categoriesOf(p.label, categories).includes(name)).map((p) => p.id),
  }));
}

/**
 * Re-assign groups and point categories from new keyword lists. Precomputed per-group metrics
 * are kept only for groups whose name still exists (their members may have changed, which the
 * page says next to those numbers).
 */
export function applyCategories(data: FeatureMapData, categories: Categories): FeatureMapData {
  const withCategory = (p: MapPoint): MapPoint => {
    const { category: _old, ...rest } = p;
    const first = categoriesOf(p.label, categories)[0];
    return first === undefined ? rest : { ...rest, category: first };
  };
  const pointsA = data.pointsA.map(withCategory);
  const pointsB = data.pointsB.map(withCategory);
  const groups = groupsFromLabels(pointsA, pointsB, categories);
  const metricsGroups = Object.fromEntries(
    Object.entries(data.metrics.groups).filter(([name]) => name in categories),
  );
  return { ...data, pointsA, pointsB, groups, metrics: { ...data.metrics, groups: metricsGroups } };
}
