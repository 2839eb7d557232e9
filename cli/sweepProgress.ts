// The live progress line of `ufg sweep start` / `ufg demo`: one bar over the whole sweep that
// advances with work done (cli/sweepWork.ts: tokens extracted, block pairs correlated, permutations
// scored, each activity weighted by its estimated cost), labelled with the current stage, with an
// ETA from the throughput measured on this sweep.
import { ProgressBar, type ProgressStream } from '../pipelines/render/progress.ts';
import type { SweepOutcome, SweepProgress } from '../workflows/index.ts';
import { measureSweepWork, type SweepSnapshot } from './sweepWork.ts';

export interface ProgressPrinterOptions {
  /** Clock and throttling of the bar (tests). */
  now?: () => number;
  plainEveryMs?: number;
}

export function progressPrinter(
  stream: ProgressStream = process.stderr,
  opts: ProgressPrinterOptions = {},
): { onProgress: (p: SweepProgress, live?: SweepSnapshot) => void; done: (outcome?: SweepOutcome) => void } {
  // One bar for the whole sweep: its throughput window (the ETA) spans every stage.
  let bar: ProgressBar | undefined;
  let planShown = false;
  let warningsShown = 0;
  return {
    onProgress(p, live) {
      // The plan and every warning are printed once, above the bar, as soon as the sweep has them.
      const news: string[] = [];
      if (p.plan !== undefined && !planShown) {
        planShown = true;
        news.push(p.plan);
      }
      for (; warningsShown < p.warnings.length; warningsShown++) news.push(`warning: ${p.warnings[warningsShown]}`);
      const pairsDone = p.pairs.filter((x) => x.status === 'done').length;
      const pairsFailed = p.pairs.filter((x) => x.status === 'failed').length;
      const label = `sweep ${p.stage} ${pairsText(pairsDone, p.pairs.length, pairsFailed)}`;
      const work = measureSweepWork(live ?? { progress: p, children: {} });
      bar ??= new ProgressBar(label, work.total, { stream, counts: false, ...(opts.now ? { now: opts.now } : {}), ...(opts.plainEveryMs !== undefined ? { plainEveryMs: opts.plainEveryMs } : {}) });
      if (news.length > 0) bar.printAbove(news.join('\n'));
      bar.update(work.done, { total: work.total, label, detail: work.detail ?? '' });
    },
    // With the outcome: the sweep finished, which the last poll (before the report was written) may not have seen.
    done: (outcome) => {
      if (outcome) {
        const failed = outcome.failed?.length ?? 0;
        bar?.update(Infinity, { label: `sweep done ${pairsText(outcome.layerPairs, outcome.layerPairs + failed, failed)}`, detail: '' });
      }
      bar?.finish();
    },
  };
}

const pairsText = (done: number, all: number, failed: number) => `(pairs ${done}/${all}${failed > 0 ? `, ${failed} failed` : ''})`;

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
