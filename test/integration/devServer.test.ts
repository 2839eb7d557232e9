// The embedded dev server: starts on free ports, answers, persists workflows to its SQLite file
// across a clean stop and a crash, refuses a second server on the same state, and stops fully.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Client, Connection } from '@temporalio/client';
import { startDevServer, type DevServer } from '../../cli/temporal/devServer.ts';
import { isUserInputError } from '../../pipelines/errors.ts';
import { processAlive, restartServer, startTestServer, tempDir, waitFor } from './harness.ts';

const tmp = tempDir('ufg-devserver-');
const stateDir = join(tmp.dir, 'state');
let server: DevServer;

before(async () => {
  server = await startTestServer(stateDir);
});
after(async () => {
  await server?.stop();
  tmp.cleanup();
});

async function withClient<T>(address: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(new Client({ connection }));
  } finally {
    await connection.close();
  }
}

/** Start a workflow no worker will ever pick up: its execution lives only in the server's db. */
function startOrphanWorkflow(address: string, workflowId: string): Promise<string> {
  return withClient(address, async (c) => {
    const h = await c.workflow.start('noSuchWorkflowType', { taskQueue: 'nobody-polls-this', workflowId, args: [{ n: 1 }] });
    return h.firstExecutionRunId;
  });
}

function describe(address: string, workflowId: string) {
  return withClient(address, async (c) => {
    const d = await c.workflow.getHandle(workflowId).describe();
    return { runId: d.runId, status: d.status.name, type: d.type };
  });
}

test('the server answers on a free port and writes its state under the state dir', async () => {
  assert.match(server.address, /^127\.0\.0\.1:\d+$/);
  assert.equal(server.namespace, 'default');
  assert.equal(server.dbFile, join(stateDir, 'temporal.db'));
  assert.ok(existsSync(server.dbFile));
  assert.ok(existsSync(join(stateDir, 'temporal.pid')));
  assert.ok(processAlive(server.pid));
});

test('a second server on the same state dir is refused, naming the running pid', async () => {
  let error: unknown;
  try {
    const second = await startDevServer({ stateDir, headless: true });
    await second.stop(); // (a failure: don't leave it running)
  } catch (e) {
    error = e;
  }
  assert.ok(isUserInputError(error), `refused with a UserInputError: ${String(error)}`);
  assert.match((error as Error).message, new RegExp(`pid ${server.pid}, run by pid ${process.pid}\\).*temporal\\.db`));
  assert.ok(processAlive(server.pid), 'the running server is left alone');
});

test('workflows survive a clean restart and a kill -9 of the server on the same db file', async () => {
  const runId = await startOrphanWorkflow(server.address, 'persist-me');
  const oldPid = server.pid;

  server = await restartServer(server, stateDir);
  assert.ok(!processAlive(oldPid), 'old server process is gone after stop()');
  assert.deepEqual(await describe(server.address, 'persist-me'), { runId, status: 'RUNNING', type: 'noSuchWorkflowType' });

  const crashedPid = server.pid;
  server = await restartServer(server, stateDir, { crash: true });
  assert.ok(!processAlive(crashedPid));
  assert.deepEqual(await describe(server.address, 'persist-me'), { runId, status: 'RUNNING', type: 'noSuchWorkflowType' });
});

test('a server on another state dir does not see those workflows', async () => {
  const other = await startDevServer({ stateDir: join(tmp.dir, 'other'), headless: true });
  try {
    await assert.rejects(describe(other.address, 'persist-me'), /not found/i);
  } finally {
    await other.stop();
  }
  assert.ok(!processAlive(other.pid));
  assert.ok(!existsSync(join(tmp.dir, 'other', 'temporal.pid')), 'pid file removed on stop');
});

test('stop() ends the process and the port stops answering', async () => {
  const s = await startDevServer({ stateDir: join(tmp.dir, 'third'), headless: true });
  await s.stop();
  assert.ok(!processAlive(s.pid));
  await waitFor('the frontend to refuse connections', async () => {
    try {
      const c = await Connection.connect({ address: s.address, connectTimeout: 500 });
      await c.close();
      return false;
    } catch {
      return true;
    }
  }, { timeoutMs: 10_000 });
});
