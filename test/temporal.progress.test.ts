// The sweep's progress line on a real sweep (dev server, worker, the demo's fixtures on a 1 × 2
// layer grid): it advances with work done inside stages (heartbeats of running activities), never
// goes back, shows an ETA only once throughput was measured and never `ETA 0s` before the end,
// and the worker's SDK does not print its "No workflows registered" warning on the terminal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSweep, sweepStatus, waitForSweep } from '../cli/sweepClient.ts';
import { progressPrinter } from '../cli/sweepProgress.ts';
import { measureSweepWork } from '../cli/sweepWork.ts';
import type { SweepConfig } from '../pipelines/config.ts';
import { loadSae } from '../pipelines/sae/index.ts';
import { planSweep } from '../pipelines/sweepPlan.ts';
import type { SweepProgress } from '../workflows/index.ts';
import { demoSweepSuite, type SweepTestEnv } from './temporal.env.ts';

// What the process writes to stderr from here on (the worker starts in the suite's `before`).
const stderr: string[] = [];
const write = process.stderr.write.bind(process.stderr);
process.stderr.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  stderr.push(String(chunk));
  return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stderr.write;

let env: SweepTestEnv;
let demo: SweepConfig;
demoSweepSuite((s) => ({ env, demo } = s));

test('a demo sweep: the bar advances with work inside stages, monotone, with a measured ETA', async () => {
  // More permutations than the demo's, and polls every 50 ms: a fast machine ran the demo's grid
  // in 4 s, too quick for 150 ms polls to see the bar move three times inside a stage.
  const config: SweepConfig = {
    ...structuredClone(demo),
    models: { a: { ...demo.models.a, layers: [1] }, b: { ...demo.models.b, layers: [1, 2] } },
    similarity: { ...demo.similarity, permutations: 2000 },
  };
  const started = await startSweep(env.client, config);
  const lines: string[] = [];
  const printer = progressPrinter({ isTTY: false, write: (s: string) => lines.push(s) }, { plainEveryMs: 0 });
  // Per poll: the fraction done, and what had finished (sweep stage, parts, children's activities).
  const polls: { fraction: number; finished: string; heartbeats: number }[] = [];
  let work: SweepProgress['work'];
  // Meanwhile `ufg sweep status` reports the same weighted work once the pairs run (polled for as
  // long as the sweep runs: a loaded machine may spend a minute preparing the models).
  const status = (async () => {
    for (;;) {
      const s = await sweepStatus(env.client, started.workflowId);
      if (s.status !== 'RUNNING') return undefined;
      if (s.progress?.stage === 'pairs' && s.work) return { ...s.work, stage: s.progress.stage };
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const outcome = await waitForSweep(env.client, started.workflowId, {
    pollMs: 50,
    onProgress: (p, live) => {
      printer.onProgress(p, live);
      const m = measureSweepWork(live);
      const children = Object.entries(live.children).sort(([x], [y]) => x.localeCompare(y));
      const finished = JSON.stringify([p.stage, p.prep.a.status, p.prep.b.status, p.pairs.map((x) => x.status), children.map(([id, c]) => [id, c.stage?.finished])]);
      const heartbeats = Object.values(live.children).reduce((n, c) => n + c.activities.filter((a) => (a.heartbeat as { unit?: string } | undefined)?.unit).length, 0);
      polls.push({ fraction: m.done / m.total, finished, heartbeats });
      work ??= p.work;
    },
  });
  printer.done(outcome);
  const seenByStatus = await status;
  assert.ok(seenByStatus && seenByStatus.done > 0 && seenByStatus.done < seenByStatus.total, `sweep status: ${JSON.stringify(seenByStatus)}`);
  assert.equal(outcome.layerPairs, 2);
  const out = lines.join('');

  // The estimate validation made: the SAE shapes read from the headers are the SAEs' own.
  assert.ok(work && work.tokens > 0, 'the sweep carries validation’s work estimate');
  for (const row of (await planSweep(config)).rows) {
    const sae = await loadSae(row.sae.file);
    assert.deepEqual(work.saes[row.side][String(row.layer)], { features: sae.numFeatures, dIn: sae.dIn }, `${row.side} layer ${row.layer}`);
  }

  // Monotone, and moving between stage boundaries: some polls gained work with nothing finished in between.
  for (let i = 1; i < polls.length; i++) assert.ok(polls[i]!.fraction >= polls[i - 1]!.fraction - 1e-12, `fraction went back at poll ${i}`);
  const withinStage = polls.filter((q, i) => i > 0 && q.finished === polls[i - 1]!.finished && q.fraction > polls[i - 1]!.fraction + 1e-9).length;
  assert.ok(polls.some((q) => q.heartbeats > 0), 'running activities heartbeat { unit, done, total }');
  assert.ok(withinStage >= 3, `the bar advanced within a stage ${withinStage} times over ${polls.length} polls:\n${out}`);

  const pcts = [...out.matchAll(/: (\d+)% /g)].map((m) => Number(m[1]));
  for (let i = 1; i < pcts.length; i++) assert.ok(pcts[i]! >= pcts[i - 1]!, `printed percentages: ${pcts.join(', ')}`);
  assert.ok(new Set(pcts).size > 7, `more distinct percentages than the old bar's 7 stages: ${[...new Set(pcts)].join(', ')}`);
  assert.doesNotMatch(out, /ETA 0s/);
  assert.match(out, /% ETA (\d+m)?\d+s/, `an ETA was measured before the end:\n${out}`);
  assert.match(out, /: 100% done in \d/);
  assert.match(out, /(extract|featureStats|pairLayer|scoreLayerPair|analyseSubspaces) \S+( layer \d+)? \d+\/\d+ (tokens|block pairs|permutations|categories)/, out);

  assert.ok(!stderr.join('').includes('No workflows registered'), 'the SDK warning for a gpu-only worker stays off the terminal');
});
