// Everything ufg needs to find, start and reach Temporal.
export { findTemporalBinary } from './binary.ts';
export { freePort, startDevServer, type DevServer, type DevServerOptions } from './devServer.ts';
export {
  connectClient,
  connectWorker,
  DEFAULT_ADDRESS,
  DEFAULT_NAMESPACE,
  externalAddressGiven,
  temporalFlagSpec,
  temporalOptions,
  tlsConfig,
  type ConnectedClient,
  type TemporalFlags,
  type TemporalOptions,
} from './connection.ts';
