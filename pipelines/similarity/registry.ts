// Every measure by name, with its declared properties: the CLI, the paired scorer and the
// property tests all read this one table.
import { UserInputError } from '../errors.ts';
import { cka } from './cka.ts';
import { ckaDebiased } from './ckaDebiased.ts';
import { cknna } from './cknna.ts';
import { knn } from './knn.ts';
import { meanCorr } from './meanCorr.ts';
import { mutualKnn } from './mutualKnn.ts';
import { procrustes } from './procrustes.ts';
import { pwcca } from './pwcca.ts';
import { rsa, rsaEuclidean } from './rsa.ts';
import { svcca, svccaReference } from './svcca.ts';
import type { Measure, MeasureName } from './types.ts';

export const MEASURES: Readonly<Record<MeasureName, Measure>> = {
  svcca,
  'svcca-reference': svccaReference,
  pwcca,
  rsa,
  'rsa-euclidean': rsaEuclidean,
  cka,
  'cka-debiased': ckaDebiased,
  knn,
  'mutual-knn': mutualKnn,
  cknna,
  procrustes,
  'mean-corr': meanCorr,
};

export const MEASURE_NAMES = Object.keys(MEASURES) as MeasureName[];

export function isMeasureName(name: string): name is MeasureName {
  return Object.hasOwn(MEASURES, name);
}

export function measureByName(name: string): Measure {
  if (!isMeasureName(name)) throw new UserInputError(`unknown metric '${name}' (known: ${MEASURE_NAMES.join(', ')})`);
  return MEASURES[name];
}
