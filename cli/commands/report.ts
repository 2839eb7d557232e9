// `ufg report --from-json sweep.json --out report.html`: the sweep's heat-map report.
import { parseOptions, requireOption } from '../args.ts';
import { renderSweepReportHtml } from '../../pipelines/render/sweepPage.ts';
import { readJsonFile, validateSweepReport } from '../../pipelines/render/validate.ts';
import { writePage } from '../../pipelines/render/writePage.ts';

export const summary = 'render the sweep report (SVCCA/RSA heat-maps, subspaces, lineage) from sweep data (JSON)';

export const help = `usage: ufg report --from-json sweep.json --out report.html
  sweep.json      SweepReportData (docs/report-data.md)`;

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, {
    'from-json': { type: 'string' },
    out: { type: 'string' },
  });
  const from = requireOption(values['from-json'], 'from-json');
  const out = requireOption(values.out, 'out');
  const data = validateSweepReport(readJsonFile(from), from);
  writePage(out, renderSweepReportHtml(data));
  console.log(`wrote ${out} (${data.layersA.length}×${data.layersB.length} layer grid, ${data.cells.length} cells)`);
  return 0;
}
