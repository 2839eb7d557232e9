// `ufg dev` as a user runs it: a child process that starts the dev server and a worker, prints
// where they are, and on Ctrl-C (SIGINT) or SIGTERM stops both and exits 0 leaving no server.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Connection } from '@temporalio/client';
import { freePort, startDevServer } from '../../cli/temporal/devServer.ts';
import { processAlive, spawnUfg, startTestServer, tempDir, waitFor, type UfgProcess } from './harness.ts';

const tmp = tempDir('ufg-dev-');
after(() => tmp.cleanup());

/** Whether some worker polls each task queue (workflow tasks on cpu, activity tasks on both). */
async function pollerCounts(address: string): Promise<{ cpu: boolean; gpu: boolean }> {
  const c = await Connection.connect({ address });
  try {
    const polled = async (name: string, taskQueueType: 1 | 2) =>
      ((await c.workflowService.describeTaskQueue({ namespace: 'default', taskQueue: { name }, taskQueueType })).pollers ?? []).length > 0;
    // temporal.api.enums.v1.TaskQueueType: 1 = WORKFLOW, 2 = ACTIVITY.
    const [WF, ACT] = [1, 2] as const;
    return { cpu: (await polled('cpu', WF)) && (await polled('cpu', ACT)), gpu: await polled('gpu', ACT) };
  } finally {
    await c.close();
  }
}

async function runDevUntil(signal: NodeJS.Signals, name: string) {
  const stateDir = join(tmp.dir, name);
  const port = await freePort();
  const dev = spawnUfg(['dev', '--state-dir', stateDir, '--port', String(port), '--headless'], { TEMPORAL_ADDRESS: '' });
  try {
    await waitFor('ufg dev to report ready', () => /ufg dev: ready/.test(dev.output()), { timeoutMs: 90_000 });
    const serverPid = Number(readFileSync(join(stateDir, 'temporal.pid'), 'utf8').split(' ')[0]);
    assert.ok(processAlive(serverPid), 'server process runs');
    assert.match(dev.output(), new RegExp(`Temporal dev server: 127\\.0\\.0\\.1:${port} \\(pid ${serverPid}`));
    // The address it printed answers, and the worker polls both task queues there.
    await waitFor('the worker to poll both task queues', async () => {
      const p = await pollerCounts(`127.0.0.1:${port}`);
      return p.cpu && p.gpu;
    }, { timeoutMs: 30_000, intervalMs: 250 });

    const code = await dev.stop(signal);
    assert.equal(code, 0, `exit code after ${signal}; output:\n${dev.output()}`);
    assert.ok(!processAlive(serverPid), 'server process is gone');
    assert.ok(!existsSync(join(stateDir, 'temporal.pid')), 'pid file removed');
    assert.ok(existsSync(join(stateDir, 'temporal.db')), 'state file stays for the next start');
    assert.match(dev.output(), /stopping the Temporal dev server[\s\S]*stopped/);
    return dev.output();
  } finally {
    await reap(dev, stateDir);
  }
}

/** After a failed assertion: stop ufg dev (and its server, which has its own process group). */
async function reap(dev: UfgProcess, stateDir: string): Promise<void> {
  if (dev.child.exitCode === null && dev.child.signalCode === null) {
    dev.child.kill('SIGTERM');
    await Promise.race([dev.exited, new Promise((r) => setTimeout(r, 15_000))]);
    dev.kill9();
  }
  const pidFile = join(stateDir, 'temporal.pid');
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split(' ')[0]) : 0;
  if (pid && processAlive(pid)) process.kill(pid, 'SIGKILL');
}

test('ufg dev stops the worker and the server on SIGINT and exits 0', async () => {
  await runDevUntil('SIGINT', 'sigint');
});

test('with TEMPORAL_ADDRESS set, ufg dev starts no server: only a worker against that address', async () => {
  const server = await startTestServer(join(tmp.dir, 'external'));
  const stateDir = join(tmp.dir, 'worker-only');
  const dev = spawnUfg(['dev', '--state-dir', stateDir], { TEMPORAL_ADDRESS: server.address });
  try {
    await waitFor('ufg dev to report ready', () => /ufg dev: ready/.test(dev.output()), { timeoutMs: 90_000 });
    assert.match(dev.output(), new RegExp(`ready on ${server.address.replace('.', '\\.')}`));
    assert.doesNotMatch(dev.output(), /Temporal dev server:/);
    assert.ok(!existsSync(join(stateDir, 'temporal.db')), 'no server state of its own');
    await waitFor('the worker to poll both task queues', async () => {
      const p = await pollerCounts(server.address);
      return p.cpu && p.gpu;
    }, { timeoutMs: 30_000, intervalMs: 250 });
    // SIGTERM (a service manager's stop) takes the same path as Ctrl-C.
    assert.equal(await dev.stop('SIGTERM'), 0, dev.output());
    assert.match(dev.output(), /SIGTERM, stopping the worker/);
    assert.ok(processAlive(server.pid), 'the external server is left running');
  } finally {
    await reap(dev, stateDir);
    await server.stop();
  }
});

test('after ufg dev is killed with SIGKILL, its orphaned server is stopped by the next start on that state dir', async () => {
  const stateDir = join(tmp.dir, 'killed');
  const port = await freePort();
  const dev = spawnUfg(['dev', '--state-dir', stateDir, '--port', String(port), '--headless'], { TEMPORAL_ADDRESS: '' });
  let orphan = 0;
  try {
    await waitFor('ufg dev to report ready', () => /ufg dev: ready/.test(dev.output()), { timeoutMs: 90_000 });
    orphan = Number(readFileSync(join(stateDir, 'temporal.pid'), 'utf8').split(' ')[0]);
    dev.kill9();
    await dev.exited;
    assert.ok(processAlive(orphan), 'the server (own process group) outlives a SIGKILLed ufg dev');
    const notices: string[] = [];
    const next = await startDevServer({ stateDir, headless: true, onNotice: (m) => notices.push(m) });
    try {
      assert.ok(!processAlive(orphan), 'the orphan was stopped');
      assert.match(notices.join('\n'), new RegExp(`pid ${orphan}\\).*left running.*exited`));
      assert.notEqual(next.pid, orphan);
    } finally {
      await next.stop();
    }
  } finally {
    dev.kill9();
    if (orphan && processAlive(orphan)) process.kill(orphan, 'SIGKILL');
  }
});
