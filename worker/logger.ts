// The logger the SDK's Runtime writes through (installed by cli/temporal/connection.ts). It is the
// SDK's DefaultLogger minus the messages that describe ufg's layout rather than a problem: a
// `gpu`-queue worker has no workflows by design (workflows run on `cpu`), and the SDK warns
// "No workflows registered, not polling for workflow tasks" for it on every start, on the user's
// terminal. Every other message, warnings included, passes through unchanged.
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';
import { DefaultLogger } from '@temporalio/worker';

/** Messages dropped, matched from the start (the SDK's own wording, @temporalio/worker 1.24 worker.js). */
export const EXPECTED_SDK_MESSAGES: readonly string[] = ['No workflows registered, not polling'];

export class QuietLogger implements Logger {
  constructor(private readonly inner: Logger) {}

  log(level: LogLevel, message: string, meta?: LogMetadata): void {
    if (EXPECTED_SDK_MESSAGES.some((m) => message.startsWith(m))) return;
    this.inner.log(level, message, meta);
  }
  trace(message: string, meta?: LogMetadata): void {
    this.log('TRACE', message, meta);
  }
  debug(message: string, meta?: LogMetadata): void {
    this.log('DEBUG', message, meta);
  }
  info(message: string, meta?: LogMetadata): void {
    this.log('INFO', message, meta);
  }
  warn(message: string, meta?: LogMetadata): void {
    this.log('WARN', message, meta);
  }
  error(message: string, meta?: LogMetadata): void {
    this.log('ERROR', message, meta);
  }
}

/** The user-facing runtime logger at `level`. */
export function userLogger(level: LogLevel): Logger {
  return new QuietLogger(new DefaultLogger(level));
}
