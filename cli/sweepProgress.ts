// The live progress line of `ufg sweep start` / `ufg demo`: one bar over the sweep's stages
// (validate, model prep, every layer pair, results, report), labelled with the current stage.
import { ProgressBar, type ProgressStream } from '../pipelines/render/progress.ts';
import type { SweepOutcome, SweepProgress } from '../workflows/index.ts';

export function progressPrinter(stream: ProgressStream = process.stderr): { onProgress: (p: SweepProgress) => void; done: () => void } {
  let bar: ProgressBar | undefined;
  let label = '';
  let planShown = false;
  let warningsShown = 0;
  return {
    onProgress(p) {
      // The plan and every warning are printed once, above the bar, as soon as the sweep has them.
      const news: string[] = [];
      if (p.plan !== undefined && !planShown) {
        planShown = true;
        news.push(p.plan);
      }
      for (; warningsShown < p.warnings.length; warningsShown++) news.push(`warning: ${p.warnings[warningsShown]}`);
      if (news.length > 0) {
        bar?.finish();
        bar = undefined;
        stream.write(news.join('\n') + '\n');
      }
      const pairsDone = p.pairs.filter((x) => x.status === 'done').length;
      const next = `sweep ${p.stage} (pairs ${pairsDone}/${p.pairs.length})`;
      if (!bar || next !== label || bar.total !== p.stagesTotal) {
        bar?.finish();
        label = next;
        bar = new ProgressBar(label, p.stagesTotal, { stream });
      }
      bar.update(p.stagesDone);
    },
    done: () => bar?.finish(),
  };
}

export function describeOutcome(o: SweepOutcome): string {
  return [
    ...o.warnings.map((w) => `warning: ${w}`),
    `sweep ${o.sweepId} done: ${o.layerPairs} layer pair${o.layerPairs === 1 ? "" : "s"}, artifacts: ${o.reused} reused, ${o.produced} computed`,
    `  results: ${o.resultsPath}  (artifact ${o.resultsId}; \`ufg lineage ${o.resultsPath}#0\`)`,
    `  report:  ${o.reportPath}`,
    ...o.mapPaths.map((m) => `  map:     ${m}`),
  ].join('\n');
}
