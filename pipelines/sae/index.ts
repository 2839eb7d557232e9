// Public surface of SAE loading, encoding and feature statistics.
export type { EncodeMode, Sae, SaeActivation, SaeLayout, SaeSource } from './types.ts';
export { assertSaeMatchesWidth, loadSae } from './loadSae.ts';
export { locateSae } from './locate.ts';
export { computeSaeFit, fitWarning, FVU_WARNING, SaeFitAccumulator, type SaeFit } from './fit.ts';
export { encodeFeatureBlock, encodeSae, saeContentKey, topkThresholds, type EncodeOptions } from './encode.ts';
export { residualMatrix, saeActivationSource, type ResidualSource } from './activationSource.ts';
export { computeFeatureStats, FeatureStatsAccumulator, type FeatureStats, type FeatureStatsOptions, type FeatureStatsState } from './featureStats.ts';
export { readFeatureStatsTable, writeFeatureStatsTable } from './statsTable.ts';
export { parseSafetensors, tensorF32, encodeSafetensors } from './safetensors.ts';
