// The workflow bundle (webpack via the SDK's bundler, which compiles our `.ts` imports with
// swc-loader and resolves explicit `.ts` extensions as written). Built once per process: every
// worker in it shares the same code.
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, DefaultLogger, type WorkflowBundleWithSourceMap } from '@temporalio/worker';

export const WORKFLOWS_PATH = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

let cached: Promise<WorkflowBundleWithSourceMap> | undefined;

export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  // Webpack's build statistics are noise on a worker's console; warnings and errors still show.
  cached ??= bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') });
  cached.catch(() => (cached = undefined));
  return cached;
}
