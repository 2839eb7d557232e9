// The workflows a worker registers (this file is the bundle's entry point: workflowsPath) and the
// query definitions clients use. Workflow code imports only @temporalio/workflow and types.
export { sweepWorkflow, prepWorkflowId, pairWorkflowId, type SweepInput, type SweepOutcome, type SweepCarry, type FailedPair } from './sweep.ts';
export { modelPrepWorkflow, type ModelPrepInput, type ModelPrepOutcome } from './modelPrep.ts';
export { layerPairWorkflow } from './layerPair.ts';
export { sweepProgressQuery, stageProgressQuery, type SweepProgress, type StageProgress, type PairProgress, type PartStatus } from './progress.ts';
export { CPU_QUEUE, GPU_QUEUE } from './options.ts';
