// Finding the Temporal binary and building connection options from flags and the environment
// (no server needed except the last test, which checks an unreachable address fails clearly).
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { findTemporalBinary } from '../../cli/temporal/binary.ts';
import { connectClient, connectWorker, temporalOptions, tlsConfig } from '../../cli/temporal/connection.ts';
import { freePort } from '../../cli/temporal/devServer.ts';
import { isUserInputError } from '../../pipelines/errors.ts';
import { tempDir } from './harness.ts';

const tmp = tempDir('ufg-topts-');
after(() => tmp.cleanup());

function fakeExecutable(dir: string, name = 'temporal'): string {
  mkdirSync(dir, { recursive: true });
  const p = join(dir, name);
  writeFileSync(p, '#!/bin/sh\necho fake\n');
  chmodSync(p, 0o755);
  return p;
}

function userError(pattern: RegExp) {
  return (e: unknown) => {
    assert.ok(isUserInputError(e), `expected a UserInputError, got ${String(e)}`);
    assert.match((e as Error).message, pattern);
    return true;
  };
}

test('UFG_TEMPORAL_BIN wins; a missing one is named', () => {
  const bin = fakeExecutable(join(tmp.dir, 'explicit'));
  assert.equal(findTemporalBinary({ UFG_TEMPORAL_BIN: bin, PATH: '' }), bin);
  const missing = join(tmp.dir, 'nope', 'temporal');
  assert.throws(() => findTemporalBinary({ UFG_TEMPORAL_BIN: missing, PATH: '' }), userError(new RegExp(`UFG_TEMPORAL_BIN=${missing}`)));
});

test('temporal on PATH is found, then the user scheme ~/.local/bin', () => {
  const onPath = fakeExecutable(join(tmp.dir, 'pathdir'));
  assert.equal(findTemporalBinary({ PATH: `/nonexistent:${join(tmp.dir, 'pathdir')}`, HOME: join(tmp.dir, 'home0') }), onPath);
  const home = join(tmp.dir, 'home1');
  const local = fakeExecutable(join(home, '.local', 'bin'));
  // PYTHON names an interpreter that does not exist and python3 is not on the empty PATH.
  assert.equal(findTemporalBinary({ PATH: '', HOME: home, PYTHON: join(tmp.dir, 'no-python') }), local);
});

test('nothing found: the error says how to install it', () => {
  assert.throws(
    () => findTemporalBinary({ PATH: '', HOME: join(tmp.dir, 'empty-home'), PYTHON: join(tmp.dir, 'no-python') }),
    userError(/scripts\/setup\.sh.*temporal-bin==1\.9\.1/),
  );
});

test('the real binary is found on this machine (setup.sh installed it)', () => {
  const bin = findTemporalBinary();
  assert.match(bin, /temporal$/);
});

test('options: defaults, environment, flags over environment', () => {
  assert.deepEqual(
    { ...temporalOptions({}, {}) },
    { address: 'localhost:7233', namespace: 'default', tlsCert: undefined, tlsKey: undefined, tlsCa: undefined, tlsServerName: undefined, tls: undefined, apiKey: undefined },
  );
  const env = { TEMPORAL_ADDRESS: 'tc.example:7233', TEMPORAL_NAMESPACE: 'research', TEMPORAL_API_KEY: 'k' };
  const o = temporalOptions({}, env);
  assert.equal(o.address, 'tc.example:7233');
  assert.equal(o.namespace, 'research');
  assert.equal(o.apiKey, 'k');
  assert.equal(tlsConfig(o), true, 'an API key implies TLS');
  const f = temporalOptions({ address: 'other:1234', namespace: 'ns2' }, env);
  assert.equal(f.address, 'other:1234');
  assert.equal(f.namespace, 'ns2');
  assert.equal(tlsConfig(temporalOptions({}, {})), undefined, 'plain by default');
  assert.equal(tlsConfig(temporalOptions({}, { TEMPORAL_TLS: 'true' })), true);
});

test('options: bad address and half an mTLS pair are refused', () => {
  assert.throws(() => temporalOptions({}, { TEMPORAL_ADDRESS: 'no-port' }), userError(/'no-port' must be host:port/));
  assert.throws(() => temporalOptions({ 'tls-cert': '/x.pem' }, {}), userError(/both a client certificate and a key/));
});

test('TLS files are read; a missing one is named', () => {
  const dir = join(tmp.dir, 'tls');
  mkdirSync(dir);
  writeFileSync(join(dir, 'c.pem'), 'CERT');
  writeFileSync(join(dir, 'k.pem'), 'KEY');
  writeFileSync(join(dir, 'ca.pem'), 'CA');
  const cfg = tlsConfig(temporalOptions({}, { TEMPORAL_TLS_CERT: join(dir, 'c.pem'), TEMPORAL_TLS_KEY: join(dir, 'k.pem'), TEMPORAL_TLS_CA: join(dir, 'ca.pem') }));
  assert.ok(cfg && typeof cfg === 'object');
  assert.equal(Buffer.from(cfg.clientCertPair!.crt).toString(), 'CERT');
  assert.equal(Buffer.from(cfg.clientCertPair!.key).toString(), 'KEY');
  assert.equal(Buffer.from(cfg.serverRootCACertificate!).toString(), 'CA');
  // The Temporal CLI's *_PATH names work too.
  const viaCliNames = tlsConfig(temporalOptions({}, { TEMPORAL_TLS_CA_PATH: join(dir, 'ca.pem') }));
  assert.equal(Buffer.from((viaCliNames as { serverRootCACertificate: Uint8Array }).serverRootCACertificate).toString(), 'CA');
  const missing = join(dir, 'missing.pem');
  assert.throws(() => tlsConfig(temporalOptions({ 'tls-ca': missing }, {})), userError(new RegExp(`${missing}: cannot read TLS CA certificate: ENOENT`)));
});

test('an address nobody listens on fails with one clear line for client and worker', async () => {
  const address = `127.0.0.1:${await freePort()}`;
  const opts = { ...temporalOptions({ address }, {}), connectTimeoutMs: 1_000 };
  await assert.rejects(connectClient(opts), userError(new RegExp(`cannot reach Temporal at ${address.replace('.', '\\.')}`)));
  await assert.rejects(connectWorker(opts), userError(new RegExp(`cannot reach Temporal at ${address.replace('.', '\\.')}`)));
});
