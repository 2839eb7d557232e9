// `ufg sweep start|status|resume|cancel`: long cross-layer sweeps on a Temporal cluster (or the
// embedded `ufg dev`). The sweep id is a hash of the config, so `start` twice attaches.
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseOptions } from '../args.ts';
import { parseSweepConfig, type SweepConfig } from '../../pipelines/config.ts';
import { UserInputError } from '../../pipelines/errors.ts';
import { formatPlan, planSweep } from '../../pipelines/sweepPlan.ts';
import { cancelSweep, resumeSweep, startSweep, sweepStatus, waitForSweep, SweepFailedError, type StartedSweep, type SweepStatus } from '../sweepClient.ts';
import { describeOutcome, layerPairName, progressPrinter } from '../sweepProgress.ts';
import type { SweepOutcome } from '../../workflows/index.ts';
import { connectClient, temporalFlagSpec, temporalOptions } from '../temporal/index.ts';

export const summary = 'start, follow, resume or cancel a cross-layer sweep (sweep start --config sweep.json)';

export const help = `usage: ufg sweep plan --config sweep.json
       ufg sweep start --config sweep.json [--strict] [--detach]
       ufg sweep status <sweep-id> [--json]
       ufg sweep resume <sweep-id> [--config sweep.json] [--detach]
       ufg sweep cancel <sweep-id>
  plan: per model and layer, the tapped tensor, the SAE file and the hookpoint it was trained on (no server needed)
  resume: a new run that takes over the layer pairs already finished and runs only the rest
  exit status: 0 done, 1 failed, 2 bad input, 3 partial (some layer pairs failed; results and report
  hold the others; fix the input the errors name, then resume)
  --strict: fail instead of warning when an SAE fits its layer badly (FVU > 0.5) or hooks another tensor
  Temporal: TEMPORAL_ADDRESS (default localhost:7233) or --address; workers: \`ufg worker\` or \`ufg dev\``;

/** Exit status of a sweep that finished with some layer pairs failed (the rest are written). */
export const PARTIAL_EXIT = 3;

const partial = (o: SweepOutcome) => (o.failed ?? []).length > 0;

export function readSweepConfig(path: string): SweepConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserInputError(`cannot read sweep config (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, path);
  }
  return parseSweepConfig(text, path);
}

function formatStatus(s: SweepStatus): string {
  const lines = [`sweep ${s.workflowId} (run ${s.runId}): ${s.status}`];
  const p = s.progress;
  if (p) {
    lines.push(`  stage ${p.stage}: ${p.stagesDone}/${p.stagesTotal} stages, artifacts: ${p.reused} reused, ${p.produced} computed`);
    if (s.work && s.work.total > 0) lines.push(`  work: ${Math.floor((100 * s.work.done) / s.work.total)}% done${p.work ? ' (activities weighted by their estimated cost)' : ''}`);
    // A two-model sweep's models are A and B; an N-model sweep's are named by key.
    const keys = Object.keys(p.prep);
    const two = keys.length === 2 && p.prep.a && p.prep.b;
    lines.push(`  models: ${two ? `A ${p.prep.a!.status}, B ${p.prep.b!.status}` : keys.map((k) => `${k} ${p.prep[k]!.status}`).join(', ')}`);
    const by = (st: string) => p.pairs.filter((x) => x.status === st).length;
    lines.push(`  layer pairs: ${by('done')} done, ${by('running')} running, ${by('pending')} pending, ${by('failed')} failed (of ${p.pairs.length})`);
    for (const f of p.pairs.filter((x) => x.status === 'failed')) lines.push(`  failed ${layerPairName(f)} (${f.workflowId}): ${f.error ?? ''}`);
  }
  for (const a of s.activities) {
    lines.push(`  running ${a.activity} (attempt ${a.attempt}) in ${a.workflowId}${a.heartbeat !== undefined ? `: ${JSON.stringify(a.heartbeat)}` : ''}${a.lastFailure ? ` — last failure: ${a.lastFailure}` : ''}`);
  }
  if (s.outcome) lines.push(describeOutcome(s.outcome));
  if (s.error) lines.push(`  error: ${s.error}`);
  return lines.join('\n');
}

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { config: { type: 'string' }, detach: { type: 'boolean' }, json: { type: 'boolean' }, strict: { type: 'boolean' }, ...temporalFlagSpec },
    true,
  );
  const [sub, id, ...extra] = positionals;
  if (!sub) {
    console.error(help);
    return 2;
  }
  if (extra.length > 0) throw new UserInputError(`unexpected arguments: ${extra.join(' ')}\n${help}`);
  const needId = () => {
    if (!id) throw new UserInputError(`ufg sweep ${sub} needs a sweep id\n${help}`);
    return id;
  };
  if (!['plan', 'start', 'status', 'resume', 'cancel'].includes(sub)) throw new UserInputError(`unknown sweep subcommand '${sub}'\n${help}`);
  const read = values.config !== undefined ? readSweepConfig(values.config) : undefined;
  const config = read && values.strict ? { ...read, strict: true } : read;
  if ((sub === 'start' || sub === 'plan') && !config) throw new UserInputError(`ufg sweep ${sub} needs --config sweep.json\n${help}`);
  if (sub === 'plan') {
    console.log(formatPlan(await planSweep(config!), dirname(config!.source!)));
    return 0;
  }
  const { client, connection } = await connectClient(temporalOptions(values));
  try {
    if (sub === 'status') {
      const s = await sweepStatus(client, needId());
      console.log(values.json ? JSON.stringify(s, null, 2) : formatStatus(s));
      return s.status === 'FAILED' ? 1 : s.outcome && partial(s.outcome) ? PARTIAL_EXIT : 0;
    }
    if (sub === 'cancel') {
      await cancelSweep(client, needId());
      console.log(`cancellation requested for ${id}`);
      return 0;
    }
    const started: StartedSweep & { handedOver?: number } = sub === 'start' ? await startSweep(client, config!) : await resumeSweep(client, needId(), config ? { config } : {});
    const handedOver = started.handedOver ? ` (${started.handedOver} finished layer pairs handed over)` : '';
    console.log(`${started.attached ? 'attached to running' : sub === 'start' ? 'started' : 'resumed'} sweep ${started.workflowId}${handedOver}`);
    if (values.detach) return 0;
    const printer = progressPrinter();
    try {
      const outcome = await waitForSweep(client, started.workflowId, { onProgress: printer.onProgress });
      printer.done(outcome);
      console.log(describeOutcome(outcome));
      return partial(outcome) ? PARTIAL_EXIT : 0;
    } catch (e) {
      printer.done();
      if (e instanceof SweepFailedError) {
        console.error(`ufg sweep: ${started.workflowId} failed: ${e.message}`);
        return 1;
      }
      throw e;
    }
  } finally {
    await connection.close();
  }
}
