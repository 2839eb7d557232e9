// Public surface of the extraction stage (for activities and other stages).
export { extractActivations, type ChunkCursor, type ExtractOptions, type ExtractResult } from './extractActivations.ts';
export { activationRows, readActivationChunks, readActivationIndex, readTokenTable, type TokenTable } from './readActivations.ts';
export { ACTIVATIONS_FORMAT, INDEX_FILE, layerColumn, type ActivationIndex, type ChunkPlan, type LayerEntry, type SpecialPositions } from './layout.ts';
