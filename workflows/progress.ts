// Progress the workflows expose through the `progress` query. Workflows know which stage each
// part is in; the live heartbeat cursor of a running activity (e.g. extraction chunk 12/40) is
// read by the client from the describe of the workflow that runs it (`sweepStatus`).
import { defineQuery } from '@temporalio/workflow';
import type { SweepWorkEstimate } from '../pipelines/work/weights.ts';

export type PartStatus = 'pending' | 'running' | 'done' | 'failed' | 'cancelled';

export interface PairProgress {
  /** The model pair (N-model sweeps; absent in a two-model sweep). */
  models?: { a: string; b: string };
  layerA: number;
  layerB: number;
  status: PartStatus;
  workflowId: string;
  /** Activity the pair workflow is in, when known. */
  stage?: string;
  /** Why it failed (status `failed`): the activity and its error, in one line. */
  error?: string;
}

export interface SweepProgress {
  sweepId: string;
  /** 0 for the first run, +1 per continue-as-new. */
  run: number;
  stage: 'validate' | 'prepare' | 'pairs' | 'correspondence' | 'results' | 'report' | 'done' | 'failed' | 'cancelled';
  /** validate + one prep per model + one per layer pair + (correspondence) + results + report (+ the floor's random-init copy, counted with its prep). */
  stagesDone: number;
  stagesTotal: number;
  /** Per model key (`a`, `b`, …). */
  prep: Record<string, { status: PartStatus; workflowId: string }>;
  pairs: PairProgress[];
  /** Artifacts found complete (reused) and computed, over everything finished so far. */
  reused: number;
  produced: number;
  /** Child workflows running now: describe them to see their activities' heartbeat cursors. */
  running: string[];
  /** The layer → tapped tensor → SAE → hookpoint table, once validation has made it. */
  plan?: string;
  /** SAE mappings and fits to look at (an SAE probably applied to another tensor than its own). */
  warnings: string[];
  /** What validation measured to weigh the activities by (cli/sweepWork.ts), once it ran. */
  work?: SweepWorkEstimate;
  error?: string;
}

export interface StageProgress {
  stage: string;
  stagesDone: number;
  stagesTotal: number;
  reused: number;
  produced: number;
  /**
   * Activities finished so far, by name (`featureStats:<layer>` for the per-layer ones), so the
   * client can tell finished work from running work (whose heartbeats say how far it is).
   */
  finished?: string[];
}

export const sweepProgressQuery = defineQuery<SweepProgress>('progress');
export const stageProgressQuery = defineQuery<StageProgress>('progress');
