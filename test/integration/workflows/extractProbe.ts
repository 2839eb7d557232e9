// A test-only workflow: one extraction activity with a short heartbeat timeout, so a test can
// watch its heartbeats while a long forward pass runs.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../../../activities/index.ts';
import type { ExtractInput, ExtractResult } from '../../../activities/types.ts';

export async function extractProbe(input: ExtractInput, heartbeatSeconds: number): Promise<ExtractResult> {
  const { extract } = proxyActivities<Activities>({
    startToCloseTimeout: '10m',
    heartbeatTimeout: `${heartbeatSeconds}s`,
    retry: { maximumAttempts: 3, initialInterval: '1s' },
  });
  return extract(input);
}
