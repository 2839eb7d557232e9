// Recorded histories are committed; the recorder rewrites the recording checkout's paths, in
// stack traces and inside base64 JSON payloads, so no history names a folder of the machine that
// made it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NEUTRAL_ROOT, sanitizeHistoryJson } from './histories/sanitize.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('sanitizeHistoryJson rewrites checkout paths in plain text and in payloads, leaves other data alone', () => {
  const payload = JSON.stringify({ model: '/home/u/ufg/test/fixtures/generated/model-a.onnx', out: '/tmp/x/out' });
  const binary = Buffer.from([0xff, 0xfe, 0x00, 0x2f]).toString('base64');
  const json = JSON.stringify({ stackTrace: 'at f (/home/u/ufg/activities/pair.ts:3:1)', payloads: [{ data: b64(payload) }, { data: binary }] });
  const clean = sanitizeHistoryJson(json, ['/home/u/ufg']);
  const o = JSON.parse(clean) as { stackTrace: string; payloads: { data: string }[] };
  assert.equal(o.stackTrace, `at f (${NEUTRAL_ROOT}activities/pair.ts:3:1)`);
  assert.deepEqual(JSON.parse(Buffer.from(o.payloads[0]!.data, 'base64').toString('utf8')), { model: `${NEUTRAL_ROOT}test/fixtures/generated/model-a.onnx`, out: '/tmp/x/out' });
  assert.equal(o.payloads[1]!.data, binary, 'a payload that is not text stays as it was');
  assert.ok(!clean.includes('/home/u/ufg'));
});
