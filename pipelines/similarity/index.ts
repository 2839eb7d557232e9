// The similarity stage: measures with declared properties, permutation nulls, the paired scorer.
export type { Invariances, Measure, MeasureName, MeasureOptions, MeasureProperties, MeasureResult, PreparedNull } from './types.ts';
export { MEASURES, MEASURE_NAMES, isMeasureName, measureByName } from './registry.ts';
export { permutationNull, pValue, nullPermutations, effectSize, pFloor, coarseNullReason, type NullOptions, type NullResult, type PValueRule } from './permutationNull.ts';
export { benjaminiHochberg } from './multipleTesting.ts';
export { seededPermutations, checkPermutations } from './permutations.ts';
export { pairedScorer, measureFor, withNull } from './pairedScorer.ts';
export { svccaCorrelations } from './svcca.ts';
