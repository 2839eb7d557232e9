// `ufg umap` and `ufg report` through the real CLI entry point (bin/ufg.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFeatureMap } from '../pipelines/render/buildFeatureMap.ts';
import { applyCategories } from '../pipelines/render/categories.ts';
import type { FeatureMapData } from '../pipelines/render/types.ts';
import { validateFeatureMap, validateSweepReport } from '../pipelines/render/validate.ts';
import { syntheticMapInput } from './browser/syntheticMap.ts';
import { syntheticSweep } from './browser/syntheticSweep.ts';

let dir: string;
let map: FeatureMapData;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ufg-render-cli-'));
  map = await buildFeatureMap({ ...syntheticMapInput(30, 6, 2), umap: { seed: 1, nEpochs: 50 } });
});
after(() => rmSync(dir, { recursive: true, force: true }));

function ufg(...args: string[]) {
  const r = spawnSync(process.execPath, ['bin/ufg.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('ufg umap re-renders a saved map and re-assigns groups from a categories file', () => {
  const json = join(dir, 'map.json');
  const cats = join(dir, 'cats.json');
  const out = join(dir, 'out', 'page.html');
  writeFileSync(json, JSON.stringify(map));
  writeFileSync(cats, JSON.stringify({ Rivers: ['RIVER'], Kin: ['mother', 'king'] }));
  const r = ufg('umap', '--from-json', json, '--categories', cats, '--out', out);
  assert.equal(r.code, 0, r.err);
  const html = readFileSync(out, 'utf8');
  const data = JSON.parse(html.slice(html.indexOf('id="ufg-data">') + 14, html.indexOf('</script>'))) as FeatureMapData;
  assert.deepEqual(data.groups.map((g) => g.name), ['Rivers', 'Kin']);
  // Coordinates are untouched: nothing was recomputed.
  assert.deepEqual(data.pointsA.map((p) => [p.x, p.y]), map.pointsA.map((p) => [p.x, p.y]));
  const rivers = data.pointsA.filter((p) => /(^|, )river(,|$)/.test(p.label)).map((p) => p.id);
  assert.ok(rivers.length > 0);
  assert.deepEqual(data.groups[0]!.a, rivers);
});

test('ufg report renders a sweep page', () => {
  const json = join(dir, 'sweep.json');
  const out = join(dir, 'report.html');
  writeFileSync(json, JSON.stringify(syntheticSweep([0, 1], [0, 1, 2])));
  const r = ufg('report', '--from-json', json, '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.equal(readFileSync(out, 'utf8').match(/data-testid="cell-svcca-/g)!.length, 6);
});

test('bad input: exit 2 with one line naming the file and the problem, no page written', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['broken.json', '{"kind": "ufg.featureMap",', /broken\.json: not valid JSON/],
    ['wrongkind.json', JSON.stringify({ ...map, kind: 'other' }), /wrongkind\.json: \$\.kind: expected "ufg\.featureMap"/],
    ['badpair.json', JSON.stringify({ ...map, pairs: [{ a: 999, b: 0, correlation: 1 }] }), /badpair\.json: \$\.pairs\[0\]\.a: index 999 but only 30 points in A/],
    ['badmethod.json', JSON.stringify({ ...map, method: 'random' }), /\$\.method: expected one of greedy, hungarian, ot/],
    ['nanx.json', JSON.stringify(map).replace(/"x":[^,]+/, '"x":"1"'), /\$\.pointsA\[0\]\.x: expected a finite number/],
  ];
  for (const [name, text, re] of cases) {
    const f = join(dir, name);
    const out = join(dir, `${name}.html`);
    writeFileSync(f, text);
    const r = ufg('umap', '--from-json', f, '--out', out);
    assert.equal(r.code, 2, `${name}: ${r.err}`);
    assert.match(r.err, re);
    assert.equal(r.err.trim().split('\n').length, 1, r.err);
    assert.ok(!r.err.includes('    at '), 'stack trace printed');
    assert.ok(!existsSync(out));
  }
  const missing = ufg('report', '--from-json', join(dir, 'nope.json'), '--out', join(dir, 'x.html'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /nope\.json: cannot read file \(ENOENT\)/);
  assert.equal(ufg('umap', '--out', join(dir, 'x.html')).code, 2);
});

test('validators reject script links and bad cells in sweep data', () => {
  const s = syntheticSweep([0], [0, 1]);
  assert.doesNotThrow(() => validateSweepReport(s, 'ok.json'));
  // Only the links the sweep writes pass: control characters, schemes, `..` and queries do not.
  for (const href of ['javascript:alert(1)', 'java\tscript:alert(1)', ' javascript:alert(1)', 'JaVaScRiPt:x', 'data:text/html,x', 'maps/../../etc/passwd.html', 'maps/A1_B2.html?x=1', '//evil.example/maps/A1_B2.html', 'maps/A1_B2.htm']) {
    const js = structuredClone(s);
    js.cells[0]!.featureMap = href;
    assert.throws(() => validateSweepReport(js, 's.json'), /s\.json: \$\.cells\[0\]\.featureMap: must be a feature-map page as the sweep writes it/, href);
  }
  const ok = structuredClone(s);
  ok.cells[0]!.featureMap = 'maps/A1_B2.html';
  assert.doesNotThrow(() => validateSweepReport(ok, 's.json'));
  const dup = structuredClone(s);
  dup.cells[1]!.layerB = 0;
  assert.throws(() => validateSweepReport(dup, 's.json'), /duplicate cell for layers \(0, 0\)/);
  const off = structuredClone(s);
  off.cells[0]!.layerA = 7;
  assert.throws(() => validateSweepReport(off, 's.json'), /layer 7 is not in layersA/);
  const noId = structuredClone(s) as unknown as { cells: Array<{ rsa: { artifactId?: string } }> };
  delete noId.cells[0]!.rsa.artifactId;
  assert.throws(() => validateSweepReport(noId, 's.json'), /\$\.cells\[0\]\.rsa\.artifactId: expected a string/);
  const badQ = structuredClone(s);
  badQ.cells[0]!.svcca.q = 1.5;
  assert.throws(() => validateSweepReport(badQ, 's.json'), /\$\.cells\[0\]\.svcca\.q: expected a q-value in \[0, 1\], got 1\.5/);
  const badSat = structuredClone(s) as unknown as { cells: Array<{ rsa: { saturated?: unknown } }> };
  badSat.cells[0]!.rsa.saturated = 'yes';
  assert.throws(() => validateSweepReport(badSat, 's.json'), /\$\.cells\[0\]\.rsa\.saturated: expected a boolean/);
  const badSkip = structuredClone(s) as unknown as { cells: Array<{ subspaces: Array<{ skipped?: unknown }> }> };
  badSkip.cells[0]!.subspaces[0]!.skipped = { svcca: 3 };
  assert.throws(() => validateSweepReport(badSkip, 's.json'), /\$\.cells\[0\]\.subspaces\[0\]\.skipped\.svcca: expected a string/);
  assert.doesNotThrow(() => validateFeatureMap(map, 'm.json'));
});

test('applyCategories keeps metrics only for groups that still exist and re-tags points', () => {
  const re = applyCategories(map, { Nature: ['tree'] });
  assert.deepEqual(Object.keys(re.metrics.groups), ['Nature']);
  assert.deepEqual(re.metrics.selection, map.metrics.selection);
  for (const p of re.pointsA) assert.equal(p.category === 'Nature', p.label.split(', ').includes('tree'));
  const none = applyCategories(map, {});
  assert.deepEqual(none.groups, []);
  assert.ok(none.pointsA.every((p) => p.category === undefined));
});
