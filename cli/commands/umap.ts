// `ufg umap --from-json map.json [--categories cats.json] --out page.html`: re-render a feature
// map page from its saved data (no UMAP recomputation); new categories re-assign the groups.
import { parseOptions, requireOption } from '../args.ts';
import { applyCategories } from '../../pipelines/render/categories.ts';
import { renderFeatureMapHtml } from '../../pipelines/render/featureMapPage.ts';
import { readJsonFile, validateCategories, validateFeatureMap } from '../../pipelines/render/validate.ts';
import { writePage } from '../../pipelines/render/writePage.ts';

export const summary = 'render the linked dual-UMAP feature-map page from saved map data (JSON)';

export const help = `usage: ufg umap --from-json map.json [--categories cats.json] --out page.html
  map.json        FeatureMapData (docs/report-data.md)
  --categories    {"Group": ["keyword", ...]}: re-assign semantic groups from feature labels`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    'from-json': { type: 'string' },
    categories: { type: 'string' },
    out: { type: 'string' },
  });
  const from = requireOption(values['from-json'], 'from-json');
  const out = requireOption(values.out, 'out');
  let data = validateFeatureMap(readJsonFile(from), from);
  if (values.categories) data = applyCategories(data, validateCategories(readJsonFile(values.categories), values.categories));
  writePage(out, renderFeatureMapHtml(data));
  console.log(`wrote ${out} (${data.pointsA.length} + ${data.pointsB.length} points, ${data.pairs.length} pairs, ${data.groups.length} groups)`);
  return 0;
}
