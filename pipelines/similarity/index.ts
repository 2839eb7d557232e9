// The similarity stage: measures with declared properties, permutation nulls, the paired scorer.
export type { Invariances, Measure, MeasureName, MeasureOptions, MeasureProperties, MeasureResult, PreparedNull } from './types.ts';
export { MEASURES, MEASURE_NAMES, isMeasureName, measureByName } from './registry.ts';
export { permutationNull, pValue, nullPermutations, type NullOptions, type NullResult, type PValueRule } from './permutationNull.ts';
export { seededPermutations, checkPermutations } from './permutations.ts';
export { pairedScorer, measureFor } from './pairedScorer.ts';
export { svccaCorrelations } from './svcca.ts';
