// The maps cross-model retrieval fits (crossMaps.ts), by name: what the config accepts.
export const MAP_KINDS = ['procrustes', 'ridge'] as const;
export type MapKind = (typeof MAP_KINDS)[number];
