// How ufg reaches Temporal: flags first, then the environment (the same variable names the
// Temporal CLI reads, plus the short ones from the README), then the local default.
import { readFileSync } from 'node:fs';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { NativeConnection, Runtime, type LogLevel, type NativeConnectionOptions } from '@temporalio/worker';
import { UserInputError } from '../../pipelines/errors.ts';
import { userLogger } from '../../worker/logger.ts';

export const DEFAULT_ADDRESS = 'localhost:7233';
export const DEFAULT_NAMESPACE = 'default';

export interface TemporalOptions {
  address: string;
  namespace: string;
  /** PEM files for mTLS (client certificate and key) and the server's CA. */
  tlsCert?: string;
  tlsKey?: string;
  tlsCa?: string;
  tlsServerName?: string;
  /** TLS without client certificates (e.g. API-key auth); implied by any of the other TLS options. */
  tls?: boolean;
  apiKey?: string;
  /** How long connectClient waits for the server before giving up (default 10 s). */
  connectTimeoutMs?: number;
}

/** Options a command accepts (node:util parseArgs shape); API keys only via the environment, never argv. */
export const temporalFlagSpec = {
  address: { type: 'string' },
  namespace: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
} as const;

export interface TemporalFlags {
  address?: string;
  namespace?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
  'tls-ca'?: string;
}

function envVar(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** True when the user pointed ufg at a Temporal they run (flag or TEMPORAL_ADDRESS). */
export function externalAddressGiven(flags: TemporalFlags = {}, env: NodeJS.ProcessEnv = process.env): boolean {
  return !!(flags.address || envVar(env, 'TEMPORAL_ADDRESS'));
}

export function temporalOptions(flags: TemporalFlags = {}, env: NodeJS.ProcessEnv = process.env): TemporalOptions {
  const tlsEnv = envVar(env, 'TEMPORAL_TLS');
  const opts: TemporalOptions = {
    address: flags.address ?? envVar(env, 'TEMPORAL_ADDRESS') ?? DEFAULT_ADDRESS,
    namespace: flags.namespace ?? envVar(env, 'TEMPORAL_NAMESPACE') ?? DEFAULT_NAMESPACE,
    tlsCert: flags['tls-cert'] ?? envVar(env, 'TEMPORAL_TLS_CERT', 'TEMPORAL_TLS_CERT_PATH'),
    tlsKey: flags['tls-key'] ?? envVar(env, 'TEMPORAL_TLS_KEY', 'TEMPORAL_TLS_KEY_PATH'),
    tlsCa: flags['tls-ca'] ?? envVar(env, 'TEMPORAL_TLS_CA', 'TEMPORAL_TLS_CA_PATH'),
    tlsServerName: envVar(env, 'TEMPORAL_TLS_SERVER_NAME'),
    tls: tlsEnv === undefined ? undefined : /^(1|true|yes)$/i.test(tlsEnv),
    apiKey: envVar(env, 'TEMPORAL_API_KEY'),
  };
  if (!opts.address.includes(':') || /\s/.test(opts.address)) {
    throw new UserInputError(`Temporal address '${opts.address}' must be host:port (TEMPORAL_ADDRESS or --address)`);
  }
  if (!!opts.tlsCert !== !!opts.tlsKey) {
    throw new UserInputError('mTLS needs both a client certificate and a key (TEMPORAL_TLS_CERT and TEMPORAL_TLS_KEY, or --tls-cert and --tls-key)');
  }
  return opts;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UserInputError(`cannot read ${what}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, path);
  }
}

type TlsConfig = Exclude<NonNullable<ConnectionOptions['tls']>, boolean>;

/** The SDK's TLS setting: undefined (plain), true (system roots) or certificates read from disk. */
export function tlsConfig(opts: TemporalOptions): TlsConfig | boolean | undefined {
  const anyFile = opts.tlsCert || opts.tlsCa || opts.tlsServerName;
  if (!anyFile) return opts.tls || opts.apiKey ? true : undefined;
  if (opts.tls === false) throw new UserInputError('TEMPORAL_TLS=false contradicts the TLS certificate options given');
  const cfg: TlsConfig = {};
  if (opts.tlsCert && opts.tlsKey) cfg.clientCertPair = { crt: readPem(opts.tlsCert, 'TLS client certificate'), key: readPem(opts.tlsKey, 'TLS client key') };
  if (opts.tlsCa) cfg.serverRootCACertificate = readPem(opts.tlsCa, 'TLS CA certificate');
  if (opts.tlsServerName) cfg.serverNameOverride = opts.tlsServerName;
  return cfg;
}

function unreachable(opts: TemporalOptions, e: unknown): UserInputError {
  const hint = opts.address === DEFAULT_ADDRESS ? ' (nothing set TEMPORAL_ADDRESS; start one with `ufg dev`)' : '';
  return new UserInputError(`cannot reach Temporal at ${opts.address}${hint}: ${(e as Error).message.split('\n')[0]}`);
}

export interface ConnectedClient {
  client: Client;
  connection: Connection;
  namespace: string;
}

export async function connectClient(opts: TemporalOptions = temporalOptions()): Promise<ConnectedClient> {
  const options: ConnectionOptions = { address: opts.address, tls: tlsConfig(opts), connectTimeout: opts.connectTimeoutMs ?? 10_000 };
  if (opts.apiKey) options.apiKey = opts.apiKey;
  let connection: Connection;
  try {
    connection = await Connection.connect(options);
  } catch (e) {
    throw unreachable(opts, e);
  }
  return { client: new Client({ connection, namespace: opts.namespace }), connection, namespace: opts.namespace };
}

const LOG_LEVELS: readonly LogLevel[] = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'];
let runtimeInstalled = false;

/**
 * The SDK logs every worker state change at INFO, which buries ufg's own output on a terminal;
 * UFG_LOG_LEVEL (default WARN) sets its level. The SDK's warning that a `gpu`-only worker polls no
 * workflows (true by design) is dropped (worker/logger.ts). Must run before the first native connection.
 */
function installWorkerRuntime(env: NodeJS.ProcessEnv = process.env): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const wanted = (env.UFG_LOG_LEVEL ?? 'WARN').toUpperCase() as LogLevel;
  const level = LOG_LEVELS.includes(wanted) ? wanted : 'WARN';
  try {
    Runtime.install({ logger: userLogger(level) });
  } catch {
    // Already instantiated (e.g. by a test environment in this process): keep its logger.
  }
}

export async function connectWorker(opts: TemporalOptions = temporalOptions()): Promise<NativeConnection> {
  installWorkerRuntime();
  const options: NativeConnectionOptions = { address: opts.address, tls: tlsConfig(opts) };
  if (opts.apiKey) options.apiKey = opts.apiKey;
  try {
    return await NativeConnection.connect(options);
  } catch (e) {
    throw unreachable(opts, e);
  }
}
