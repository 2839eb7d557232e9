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
      const pairsFailed = p.pairs.filter((x) => x.status === 'failed').length;
      const next = `sweep ${p.stage} (pairs ${pairsDone}/${p.pairs.length}${pairsFailed > 0 ? `, ${pairsFailed} failed` : ''})`;
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

const plural = (n: number, what: string) => `${n} ${what}${n === 1 ? '' : 's'}`;

/** `A1 ↔ B2` in a two-model sweep; `a@1 ↔ c@2` (model key @ layer) in an N-model sweep. */
export function layerPairName(p: { models?: { a: string; b: string }; layerA: number; layerB: number }): string {
  return p.models ? `${p.models.a}@${p.layerA} ↔ ${p.models.b}@${p.layerB}` : `A${p.layerA} ↔ B${p.layerB}`;
}

/** The outcome for the terminal; a partial sweep ends with its failed pairs and how to retry them. */
export function describeOutcome(o: SweepOutcome): string {
  const failed = o.failed ?? [];
  const pairs = failed.length > 0 ? `${o.layerPairs} of ${plural(o.layerPairs + failed.length, 'layer pair')} (${failed.length} failed)` : plural(o.layerPairs, 'layer pair');
  return [
    ...o.warnings.map((w) => `warning: ${w}`),
    `sweep ${o.sweepId} ${failed.length > 0 ? 'partial' : 'done'}: ${pairs}, artifacts: ${o.reused} reused, ${o.produced} computed`,
    ...(o.carriedOver > 0 ? [`  resumed: ${plural(o.carriedOver, 'finished layer pair')} taken over from the earlier run, ${o.ran} run`] : []),
    `  results: ${o.resultsPath}  (artifact ${o.resultsId}; \`ufg lineage ${o.resultsPath}#0\`)`,
    `  report:  ${o.reportPath}`,
    ...o.mapPaths.map((m) => `  map:     ${m}`),
    ...failed.map((f) => `  failed:  ${layerPairName(f)} (${f.workflowId}): ${f.error}`),
    ...(failed.length > 0 ? [`  fix what the errors name, then \`ufg sweep resume ${o.sweepId}\` runs only the failed layer pairs`] : []),
  ].join('\n');
}
