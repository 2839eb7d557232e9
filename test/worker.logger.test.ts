import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { QuietLogger } from '../worker/logger.ts';

function recorder(): Logger & { seen: Array<[LogLevel, string]> } {
  const seen: Array<[LogLevel, string]> = [];
  const log = (level: LogLevel, message: string, _meta?: LogMetadata) => void seen.push([level, message]);
  return {
    seen,
    log,
    trace: (m) => log('TRACE', m),
    debug: (m) => log('DEBUG', m),
    info: (m) => log('INFO', m),
    warn: (m) => log('WARN', m),
    error: (m) => log('ERROR', m),
  };
}

test('the no-workflows warning of a gpu-only worker is dropped, every other message passes', () => {
  const inner = recorder();
  const logger = new QuietLogger(inner);
  logger.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'ufg-gpu' });
  logger.log('WARN', 'No workflows registered, not polling for workflow tasks');
  logger.warn('No activities registered, not polling for activity tasks');
  logger.warn('Activity failed', { attempt: 3 });
  logger.error('Worker failed');
  logger.info('Worker state changed');
  assert.deepEqual(inner.seen, [
    ['WARN', 'No activities registered, not polling for activity tasks'],
    ['WARN', 'Activity failed'],
    ['ERROR', 'Worker failed'],
    ['INFO', 'Worker state changed'],
  ]);
});

test('the dropped wording is the SDK’s own (an SDK upgrade that rewords it fails here)', async () => {
  const { readFile } = await import('node:fs/promises');
  const { createRequire } = await import('node:module');
  const { EXPECTED_SDK_MESSAGES } = await import('../worker/logger.ts');
  const source = await readFile(createRequire(import.meta.url).resolve('@temporalio/worker/lib/worker.js'), 'utf8');
  for (const m of EXPECTED_SDK_MESSAGES) assert.ok(source.includes(`'${m}`), `@temporalio/worker no longer logs "${m}…"`);
});
