// The linked dual-UMAP page: server-side it only writes the frame (escaped headings, controls,
// empty tables) and embeds the data as escaped JSON; client/featureMap.js draws and links it.
import { escapeHtml as h, jsonForScript } from './escape.ts';
import { pageHead, scriptTag } from './inlineAssets.ts';
import { METRIC_NAMES, type FeatureMapData, type MappingMethod, type MetricName, type ModelSide } from './types.ts';

const METHOD_TEXT: Record<MappingMethod, string> = {
  greedy: 'greedy (max correlation per B feature)',
  hungarian: 'Hungarian (one-to-one, max total correlation)',
  ot: 'entropic optimal transport (Sinkhorn)',
  decoder: 'decoder cosine (one-to-one, Hungarian on decoder rows; no activations)',
};

const METRIC_HEADER: Record<MetricName, string> = {
  'cka-debiased': '<th class="num" title="debiased linear CKA (unbiased HSIC)">CKA (debiased)</th>',
  cka: '<th class="num" title="linear CKA, biased estimator">CKA</th>',
  rsa: '<th class="num">RSA</th>',
  procrustes: '<th class="num" title="a distance: lower is more similar">Procrustes (distance)</th>',
  svcca: '<th class="num">SVCCA</th>',
  knn: '<th class="num">k-NN</th>',
};
/** Columns when no scope has any score. */
const DEFAULT_COLUMNS: MetricName[] = ['cka', 'rsa', 'procrustes', 'svcca', 'knn'];

/** The metric columns: those some scope has, in METRIC_NAMES order (client/featureMap.js reads them from data-metrics). */
function metricColumns(data: FeatureMapData): MetricName[] {
  const sets = [data.metrics.selection, ...Object.values(data.metrics.groups)];
  const shown = METRIC_NAMES.filter((m) => sets.some((set) => set[m] !== undefined));
  return shown.length > 0 ? shown : DEFAULT_COLUMNS;
}

function sideText(s: ModelSide): string {
  return `<b>${h(s.model)}</b> layer ${h(s.layer)}${s.sae ? ` <span class="muted">(${h(s.sae)})</span>` : ''}`;
}

function panel(key: 'a' | 'b', s: ModelSide, n: number): string {
  return `<section class="panel" data-testid="panel-${key}">
  <h2>Model ${key.toUpperCase()} <span>${h(s.model)} · layer ${h(s.layer)} · ${n} features</span></h2>
  <canvas id="canvas-${key}" data-testid="canvas-${key}" aria-label="UMAP of model ${key.toUpperCase()} features"></canvas>
  <div class="info" id="info-${key}" data-testid="info-${key}"></div>
</section>`;
}

export function renderFeatureMapHtml(data: FeatureMapData): string {
  const title = data.title ?? `${data.sideA.model} L${data.sideA.layer} ↔ ${data.sideB.model} L${data.sideB.layer}`;
  const columns = metricColumns(data);
  const provenance = Object.entries(data.provenance)
    .map(([role, id]) => `<tr><td>${h(role)}</td><td class="mono">${h(id)}</td></tr>`)
    .join('');
  return `${pageHead(title, 'feature map', ['page.css', 'featureMap.css'], ['featureMap.js'])}
<body>
<header>
  <h1>${h(title)}</h1>
  <div class="meta">A: ${sideText(data.sideA)} &nbsp;·&nbsp; B: ${sideText(data.sideB)} &nbsp;·&nbsp;
    mapping <span class="badge" data-testid="mapping-method" data-method="${h(data.method)}">${h(METHOD_TEXT[data.method] ?? data.method)}</span>
    &nbsp;·&nbsp; ${data.pairs.length} pairs</div>
</header>
<main>
  <div class="controls">
    <label>Semantic group <select id="group-select" data-testid="group-select"></select></label>
    <label><input type="checkbox" id="mesh-toggle" data-testid="mesh-toggle" checked> pair mesh (group, ≤ 32 pairs)</label>
    <span><label>Drag on a panel:</label>
      <label><input type="radio" name="mode" value="box" data-testid="mode-box" checked> box select</label>
      <label><input type="radio" name="mode" value="lasso" data-testid="mode-lasso"> lasso</label></span>
    <button id="clear-selection" data-testid="clear-selection" type="button">Clear selection</button>
    <span class="legend"><i style="background:#ff6b5b"></i>hovered / its partner <i style="background:#ffbf47"></i>selected <i id="legend-group" style="background:#c77dff"></i>group</span>
  </div>
  <div class="panels">
${panel('a', data.sideA, data.pointsA.length)}
${panel('b', data.sideB, data.pointsB.length)}
  </div>
  <div class="tables">
    <section class="card">
      <h2 id="pair-table-title" data-testid="pair-table-title"></h2>
      <div class="scroll"><table data-testid="pair-table">
        <thead><tr><th class="num">A feature</th><th>A label</th><th class="num">B feature</th><th>B label</th><th class="num">Corr</th></tr></thead>
        <tbody id="pair-table-body" data-testid="pair-table-body"></tbody>
      </table></div>
    </section>
    <section class="card">
      <h2>Similarity (observed, null mean ± sd, permutation p)</h2>
      <table data-testid="metrics-table" id="metrics-table" data-metrics="${h(columns.join(','))}">
        <thead><tr><th>Scope</th>${columns.map((m) => METRIC_HEADER[m]).join('')}</tr></thead>
        <tbody id="metrics-body"></tbody>
      </table>
      <p class="muted" id="live-metrics" data-testid="live-metrics"></p>
      <details><summary>Provenance (artifact ids)</summary>
        <table data-testid="provenance"><tbody>${provenance}</tbody></table></details>
    </section>
  </div>
</main>
<div id="tooltip" data-testid="tooltip" role="tooltip"></div>
<script type="application/json" id="ufg-data">${jsonForScript(data)}</script>
${scriptTag('featureMap.js')}
</body>
</html>
`;
}
