import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml, jsonForScript } from '../pipelines/render/escape.ts';
import { renderFeatureMapHtml } from '../pipelines/render/featureMapPage.ts';
import { renderSweepReportHtml } from '../pipelines/render/sweepPage.ts';
import type { FeatureMapData } from '../pipelines/render/types.ts';
import { syntheticSweep } from './browser/syntheticSweep.ts';

const EVIL = `</script><script>alert(1)</script><img src=x onerror=alert(2)> " ' & \u2028`;

test('escapeHtml escapes the five HTML-significant characters and nothing else', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(escapeHtml('plain text, 123 é'), 'plain text, 123 é');
  assert.equal(escapeHtml(42), '42');
});

test('jsonForScript round-trips and never contains < > & or raw line separators', () => {
  const value = { label: EVIL, nested: [EVIL, { k: '<!--' }], n: 1.5 };
  const s = jsonForScript(value);
  assert.ok(!/[<>&\u2028\u2029]/.test(s), s);
  assert.deepEqual(JSON.parse(s), value);
});

function tinyMap(label: string): FeatureMapData {
  return {
    kind: 'ufg.featureMap',
    version: 1,
    title: label,
    sideA: { model: label, layer: 1 },
    sideB: { model: 'b', layer: 2, sae: label },
    method: 'ot',
    pointsA: [{ id: 1, label, x: 0, y: 0, category: label }],
    pointsB: [{ id: 2, label, x: 1, y: 1 }],
    pairs: [{ a: 0, b: 0, correlation: 0.5 }],
    groups: [{ name: label, a: [1], b: [2] }],
    metrics: { selection: {}, groups: {} },
    provenance: { [label]: label },
  };
}

test('feature map page: corpus text appears only escaped, the page loads nothing external', () => {
  const html = renderFeatureMapHtml(tinyMap(EVIL));
  assert.ok(!html.includes('<img'), 'raw <img in page');
  assert.equal(html.match(/<script/g)!.length, 2, 'only the data block and the viewer script');
  assert.equal(html.match(/<\/script>/g)!.length, 2);
  assert.ok(html.includes(escapeHtml(EVIL)));
  assert.ok(!/\s(src|href)=["']?(https?:)?\/\//i.test(html), 'external reference');
  assert.ok(!/@import|url\(\s*['"]?https?:/i.test(html));
  assert.match(html, /Content-Security-Policy" content="default-src &#39;none&#39;/);
  const data = html.slice(html.indexOf('id="ufg-data">') + 14, html.indexOf('</script>'));
  assert.equal(JSON.parse(data).pointsA[0].label, EVIL);
});

test('sweep page: names and ids appear only escaped', () => {
  const sweep = syntheticSweep([0], [0]);
  sweep.modelB = EVIL;
  sweep.cells[0]!.artifactId = EVIL;
  sweep.cells[0]!.subspaces[0]!.name = EVIL;
  // Reasons come from measures and stored artifacts: text like any other.
  Object.assign(sweep.cells[0]!.rsa, { saturated: true, saturatedReason: EVIL });
  sweep.cells[0]!.subspaces[1]!.skipped = { svcca: EVIL };
  const html = renderSweepReportHtml(sweep);
  assert.ok(!html.includes('<img'));
  assert.equal(html.match(/<script/g)!.length, 1);
  assert.ok(html.includes(escapeHtml(EVIL)));
});
