// `ufg demo`: a whole sweep end to end on generated fixtures (tiny models, tokenizer, corpus,
// SAEs; no downloads), on the embedded Temporal dev server with a worker in this process. Prints
// where the results table, the report and the feature-map pages are, then stops cleanly.
import { existsSync } from 'node:fs';
import { readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseOptions } from '../args.ts';
import { demoConfig, demoThreeModelConfig } from '../../pipelines/config.ts';
import { UserInputError } from '../../pipelines/errors.ts';
import { runWorker } from '../../worker/runWorker.ts';
import { SweepFailedError, startSweep, waitForSweep } from '../sweepClient.ts';
import { describeOutcome, progressPrinter } from '../sweepProgress.ts';
import { connectClient, connectWorker, externalAddressGiven, startDevServer, temporalFlagSpec, temporalOptions, type DevServer } from '../temporal/index.ts';
import { ensureFixtures, MODEL_A, MODEL_B } from '../../test/fixtures/generate.ts';
import { generateSaeFixtures, SAE_FIXTURE_VERSION } from '../../test/fixtures/saes.ts';

export const summary = 'run a full sweep on generated fixtures with the embedded Temporal dev server, then print where the results are';

export const help = `usage: ufg demo [--models 2|3] [--state-dir DIR] [--out DIR]
  --models     2 (default): fixture A vs B; 3: A, B and C, every pair, plus ceiling and floor controls on A
  --state-dir  Temporal state (temporal.db) and the artifact store (default $UFG_HOME or ./.ufg)
  --out        where results.parquet, report.html and maps/ go (default <state-dir>/demo)
  With TEMPORAL_ADDRESS set, that cluster is used instead of the embedded server.`;

async function saeFixturesCurrent(saes: string): Promise<boolean> {
  const truth = join(saes, 'truth.json');
  if (!existsSync(truth)) return false;
  return (JSON.parse(await readFile(truth, 'utf8')) as { version?: number }).version === SAE_FIXTURE_VERSION;
}

/** Generated models, tokenizer and corpus, plus an SAE for every block under `<dir>/saes`. */
export async function ensureDemoFixtures(dir?: string): Promise<string> {
  const paths = await ensureFixtures(dir);
  const saes = join(paths.dir, 'saes');
  if (!(await saeFixturesCurrent(saes))) {
    await rm(saes, { recursive: true, force: true });
    // Written aside and renamed, so a concurrent reader never sees a half-written SAE folder.
    const tmp = `${saes}.tmp-${process.pid}`;
    await generateSaeFixtures(tmp, { modelA: { d: MODEL_A.dModel, layers: MODEL_A.numLayers }, modelB: { d: MODEL_B.dModel, layers: MODEL_B.numLayers } });
    try {
      await rename(tmp, saes);
    } catch {
      await rm(tmp, { recursive: true, force: true }); // another process finished first
    }
  }
  return paths.dir;
}

export async function run(args: string[]): Promise<number> {
  const { values } = parseOptions(args, { models: { type: 'string' }, 'state-dir': { type: 'string' }, out: { type: 'string' }, ...temporalFlagSpec });
  const models = values.models ?? '2';
  if (models !== '2' && models !== '3') throw new UserInputError(`--models: must be 2 or 3, got ${JSON.stringify(models)}`);
  const stateDir = resolve(values['state-dir'] ?? process.env.UFG_HOME ?? '.ufg');
  const outDir = resolve(values.out ?? join(stateDir, 'demo'));
  console.error('ufg demo: generating fixtures (tiny models, tokenizer, corpus, SAEs)…');
  const fixtures = await ensureDemoFixtures();
  const config = models === '3' ? demoThreeModelConfig(fixtures, outDir) : demoConfig(fixtures, outDir);

  let server: DevServer | undefined;
  let opts = temporalOptions(values);
  if (!externalAddressGiven(values)) {
    console.error(`ufg demo: starting the Temporal dev server (state in ${stateDir})…`);
    server = await startDevServer({ stateDir, headless: true });
    opts = { ...opts, address: server.address, namespace: server.namespace };
  }
  const abort = new AbortController();
  let worker: Promise<void> | undefined;
  try {
    const connection = await connectWorker(opts);
    let ready!: () => void;
    const isReady = new Promise<void>((r) => (ready = r));
    worker = runWorker({ connection, namespace: opts.namespace, storeRoot: join(stateDir, 'store'), signal: abort.signal, onReady: ready }).finally(() => connection.close());
    await Promise.race([isReady, worker]);
    const { client, connection: clientConnection } = await connectClient(opts);
    try {
      const started = await startSweep(client, config);
      console.error(`ufg demo: ${started.attached ? 'attached to' : 'started'} sweep ${started.workflowId}`);
      const printer = progressPrinter();
      try {
        const outcome = await waitForSweep(client, started.workflowId, { onProgress: printer.onProgress });
        printer.done(outcome);
        console.log(describeOutcome(outcome));
        console.log(`  store:   ${join(stateDir, 'store')}  (pass --store to \`ufg lineage\` when it is not the default)`);
        return 0;
      } catch (e) {
        printer.done();
        if (e instanceof SweepFailedError) {
          console.error(`ufg demo: sweep failed: ${e.message}`);
          return 1;
        }
        throw e;
      }
    } finally {
      await clientConnection.close();
    }
  } finally {
    abort.abort();
    await worker?.catch((e: unknown) => console.error(`ufg demo: worker: ${(e as Error).message}`));
    await server?.stop();
  }
}
