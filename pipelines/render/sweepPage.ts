// The sweep report: SVCCA and RSA heat-maps over the layer grid (and one per further full-space
// metric the data lists, e.g. CKA, k-NN, Procrustes), then one card per layer pair with its
// scores, subspace bars, filter-stage counts, link to its feature map and the artifact id of
// every number. Rendered as static escaped HTML/SVG; the only script is the tooltip and the
// colour switch. Cells are coloured by effect ((observed − null mean) / null sd) by default and
// can be switched to the observed score: every cell carries both colours and labels, the page
// says which it shows. Saturated scores (uninformative by construction) are grey, with the reason
// in the tooltip and on the card. Stars mark q ≤ 0.05 (Benjamini–Hochberg over the whole sweep,
// the results table's q), not p. An N-model sweep's page puts the model × model summary
// (sweepSummary.ts) first, then one such section per model pair; the controls' best effects are
// marked on every effect legend as reference ticks.
import { viridis, textColorOn } from './colorScale.ts';
import { escapeHtml as h, isMapHref } from './escape.ts';
import { pageHead, scriptTag } from './inlineAssets.ts';
import { FVU_WARNING } from '../sae/fit.ts';
import { controlRefs, summarySection, type ControlRefs } from './sweepSummary.ts';
import type { MappingMethod, ModelPairSection, SaeFitView, SweepCell, SweepMetric, SweepReportData, SweepScore } from './types.ts';

/** What a heat-map draws: one model pair's layers and cells (a two-model report's top level is one). */
type Grid = Pick<SweepReportData, 'modelA' | 'modelB' | 'layersA' | 'layersB' | 'cells' | 'failed'> & Pick<ModelPairSection, 'unscored'>;

const SCORE_TITLE: Record<string, string> = {
  svcca: 'SVCCA',
  'svcca-reference': 'SVCCA (original code)',
  rsa: 'RSA',
  'rsa-euclidean': 'RSA (Euclidean)',
  cka: 'CKA (biased)',
  'cka-debiased': 'CKA (debiased)',
  knn: 'k-NN Jaccard',
  'mutual-knn': 'mutual k-NN (Huh et al.)',
  cknna: 'CKNNA',
  procrustes: 'Procrustes',
  pwcca: 'PWCCA',
  'mean-corr': 'mean column correlation',
  'retrieval-procrustes-top1': 'retrieval top-1 (whitened Procrustes)',
  'retrieval-procrustes-top10': 'retrieval top-10 (whitened Procrustes)',
  'retrieval-procrustes-mrr': 'retrieval MRR (whitened Procrustes)',
  'retrieval-ridge-top1': 'retrieval top-1 (ridge)',
  'retrieval-ridge-top10': 'retrieval top-10 (ridge)',
  'retrieval-ridge-mrr': 'retrieval MRR (ridge)',
  'stability-partner': 'pairing stability: same partner in both halves',
  'stability-jaccard': 'pairing stability: Jaccard of kept sets',
};
const METHOD_TITLE: Record<MappingMethod, string> = { greedy: 'greedy pairing', hungarian: 'Hungarian pairing', ot: 'optimal-transport pairing', decoder: 'decoder-cosine pairing' };
const DEFAULT_METRICS: SweepMetric[] = [{ name: 'svcca' }, { name: 'rsa' }];

const titleOf = (m: SweepMetric) => m.title ?? SCORE_TITLE[m.name] ?? m.name;

/** A cell's full-space score of `name`: from `scores`, else the dedicated svcca / rsa fields. */
function scoreOf(c: SweepCell, name: string): SweepScore | undefined {
  return c.scores?.[name] ?? (name === 'svcca' ? c.svcca : name === 'rsa' ? c.rsa : undefined);
}

const f3 = (x: number) => (Number.isFinite(x) ? x.toFixed(3) : '–');
const fp = (p: number) => (p < 0.001 ? p.toExponential(1) : p.toFixed(3));
const fq = (q: number | undefined) => (q === undefined ? 'n/a' : fp(q));
const fe = (e: number | undefined) => (e === undefined ? 'n/a' : `${e >= 0 ? '+' : ''}${e.toFixed(1)}`);

/** Significance on the heat-maps: the sweep-wide Benjamini–Hochberg q, never the raw p. */
export const Q_STAR = 0.05;
const starred = (s: SweepScore) => s.q !== undefined && s.q <= Q_STAR;

/** Fill of a saturated cell (both views) and of a cell whose null has no spread (effect view). */
export const SATURATED_FILL = '#5b6170';
export const NO_EFFECT_FILL = '#2a303c';

/** A card's anchor; `section` (N-model sweeps: `<a>_vs_<b>`) keeps the model pairs' cards apart. */
export function pairAnchor(c: Pick<SweepCell, 'layerA' | 'layerB'>, section = ''): string {
  return section ? `pair-${section}-${c.layerA}-${c.layerB}` : `pair-${c.layerA}-${c.layerB}`;
}

function scoreTip(name: string, s: SweepScore, c: SweepCell): string {
  return [
    `${name}  A layer ${c.layerA} ↔ B layer ${c.layerB}`,
    ...(s.saturated ? [`saturated (uninformative by construction): ${s.saturatedReason ?? 'no reason given'}`] : []),
    `observed ${f3(s.observed)}`,
    `null mean ${f3(s.nullMean)}${s.nullSd !== undefined ? ` ± ${f3(s.nullSd)}` : ''}`,
    `effect ${fe(s.effect)} null sd`,
    `p = ${fp(s.p)}, q = ${fq(s.q)}`,
    `artifact ${s.artifactId}`,
  ].join('\n');
}

/** Colour range of the observed view: [0, 1] widened to the data if a score falls outside it (RSA can be negative). */
function range(values: number[]): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(1, ...values);
  return [lo, hi];
}

/** Colour range of the effect view: 0 and every effect, never empty. */
function effectRange(values: number[]): [number, number] {
  const lo = Math.min(0, ...values);
  const hi = Math.max(0, ...values);
  return hi > lo ? [lo, hi] : [lo - 1, hi + 1];
}

type View = 'effect' | 'observed';

/**
 * The colour bar of a view. On the effect view, the controls' best effects for this metric are
 * reference ticks (the heat-map's effect range includes them): where the ceiling and the floor of
 * the sweep fall on this pair's scale.
 */
function legend(name: string, view: View, lo: number, hi: number, note: string, section = '', refs: ControlRefs = {}): string {
  const stops = Array.from({ length: 11 }, (_, k) => `<stop offset="${k * 10}%" stop-color="${viridis(k / 10)}"/>`).join('');
  const id = `lg-${section ? `${h(section)}-` : ''}${h(name)}-${view}`;
  const f = view === 'effect' ? (v: number) => v.toFixed(1) : f3;
  const ticks =
    view !== 'effect'
      ? ''
      : (['ceiling', 'floor'] as const)
          .flatMap((kind) => {
            const r = refs[kind];
            if (!r) return [];
            const x = 40 + 180 * Math.min(1, Math.max(0, (r.effect - lo) / (hi - lo)));
            return [
              `<g data-testid="legend-ref-${h(name)}-${kind}" data-effect="${r.effect}" data-artifact="${h(r.artifactId)}" data-tip="${h(`${kind}: best effect ${fe(r.effect)} (${r.label})\nartifact ${r.artifactId}`)}"><line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="1" y2="17" stroke="${kind === 'ceiling' ? '#ffffff' : '#ff6b6b'}" stroke-width="2" stroke-dasharray="3 2"/>` +
                `<text x="${x.toFixed(1)}" y="26" text-anchor="middle" style="fill:#d7dbe2;font-size:9px">${kind}</text></g>`,
            ];
          })
          .join('');
  const height = ticks ? 30 : 26;
  return `<div class="when-${view}" data-testid="legend-${h(name)}-${view}"><svg viewBox="0 0 260 ${height}" width="260" height="${height}" aria-hidden="true"><defs><linearGradient id="${id}">${stops}</linearGradient></defs>
    <rect x="40" y="4" width="180" height="10" fill="url(#${id})"/><text x="34" y="13" text-anchor="end" style="fill:#8b95a7;font-size:11px">${f(lo)}</text><text x="226" y="13" style="fill:#8b95a7;font-size:11px">${f(hi)}</text>${ticks}</svg>
    <span class="muted">${h(note)}</span></div>`;
}

/** Space kept between an axis title and the drawing's edge. */
const AXIS_PAD = 4;
/** Axis titles are 11px text (sweep.css); 0.62 em per character bounds the common sans-serif faces' average width. */
const AXIS_CHAR_PX = 0.62 * 11;
/** Longer model names are shortened in the middle on the axis (the full name is the title's tooltip). */
const AXIS_NAME_MAX = 60;

const widthOf = (s: string) => Math.ceil([...s].length * AXIS_CHAR_PX);

/**
 * `layer of A (name)`: its SVG content (escaped, with the full name as tooltip when shortened) and
 * its length along the axis. When one line is longer than `room`, the name goes on a second line
 * (tspans placed relative to the text's origin, so only for a title drawn at a translated origin,
 * as the rotated A title is): a tall thin grid then grows by the name's length, not the whole title's.
 */
export function axisTitle(side: 'A' | 'B', model: string, room = Infinity): { text: string; svg: string; width: number; lines: number } {
  const chars = [...model];
  const shown = chars.length <= AXIS_NAME_MAX ? model : `${chars.slice(0, AXIS_NAME_MAX / 2 - 1).join('')}…${chars.slice(chars.length - AXIS_NAME_MAX / 2).join('')}`;
  const text = `layer of ${side} (${shown})`;
  const tip = shown === model ? '' : `<title>${h(`layer of ${side} (${model})`)}</title>`;
  if (widthOf(text) <= room) return { text, svg: `${tip}${h(text)}`, width: widthOf(text), lines: 1 };
  const [first, second] = [`layer of ${side}`, `(${shown})`];
  return {
    text,
    svg: `${tip}<tspan x="0" dy="0">${h(first)}</tspan><tspan x="0" dy="1.2em">${h(second)}</tspan>`,
    width: Math.max(widthOf(first), widthOf(second)),
    lines: 2,
  };
}

/** A centre for a span of `length` as close to `centre` as keeps the span within [lo, hi]. */
function clampCentre(centre: number, length: number, lo: number, hi: number): number {
  return Math.max(lo + length / 2, Math.min(hi - length / 2, centre));
}

function heatmap(data: Grid, metric: SweepMetric, section = '', refs: ControlRefs = {}): string {
  const name = metric.name;
  const title = titleOf(metric);
  const distance = metric.largerIsMoreSimilar === false;
  const cell = 44;
  const left = 64;
  const top = 28;
  const { layersA, layersB } = data;
  const byKey = new Map(data.cells.map((c) => [`${c.layerA},${c.layerB}`, c]));
  const failedByKey = new Map((data.failed ?? []).map((f) => [`${f.layerA},${f.layerB}`, f]));
  const unscoredByKey = new Map((data.unscored ?? []).map((f) => [`${f.layerA},${f.layerB}`, f.error]));
  // Saturated cells are grey whatever their value, so they do not stretch the colour scales.
  const scored = data.cells.flatMap((c) => scoreOf(c, name) ?? []).filter((s) => !s.saturated);
  const [lo, hi] = range(scored.map((s) => s.observed));
  // The controls' best effects widen the effect range, so their ticks sit at their values and the
  // pair's colours read against the sweep's ceiling and floor.
  const refEffects = (['ceiling', 'floor'] as const).flatMap((k) => (refs[k] ? [refs[k]!.effect] : []));
  const [elo, ehi] = effectRange([...scored.flatMap((s) => (s.effect !== undefined ? [s.effect] : [])), ...refEffects]);
  const showValues = layersB.length <= 16;
  // The axis titles carry the model names, which can be longer than the grid is wide (or tall):
  // the drawing grows to hold them, so no title is cut off at the SVG's edge.
  const titleB = axisTitle('B', data.modelB);
  const titleA = axisTitle('A', data.modelA, layersA.length * cell + 40 - 2 * AXIS_PAD);
  const w = Math.max(left + layersB.length * cell + 10, titleB.width + 2 * AXIS_PAD);
  const hgt = Math.max(top + layersA.length * cell + 40, titleA.width + 2 * AXIS_PAD + 24);
  const parts: string[] = [];
  layersB.forEach((lb, j) => {
    parts.push(`<text x="${left + j * cell + cell / 2}" y="${top - 8}" text-anchor="middle">${h(lb)}</text>`);
  });
  layersA.forEach((la, i) => {
    const y = top + i * cell;
    parts.push(`<text x="${left - 8}" y="${y + cell / 2 + 4}" text-anchor="end">${h(la)}</text>`);
    layersB.forEach((lb, j) => {
      const x = left + j * cell;
      const c = byKey.get(`${la},${lb}`);
      const s = c && scoreOf(c, name);
      const failed = failedByKey.get(`${la},${lb}`);
      if (!c && failed) {
        // A pair of a partial sweep that failed: marked as such, with its error on hover.
        parts.push(
          `<rect class="failed" x="${x + 1}" y="${y + 1}" width="${cell - 2}" height="${cell - 2}" data-testid="cell-${h(name)}-${la}-${lb}" data-failed="1" data-tip="${h(`A layer ${la} ↔ B layer ${lb}: failed\n${failed.error}`)}"></rect>` +
            `<text class="failed" x="${x + cell / 2}" y="${y + cell / 2 + 3}" text-anchor="middle">failed</text>`,
        );
        return;
      }
      if (!c || !s) {
        // Outlined and marked so a missing pair reads as "not computed", not as an empty panel.
        parts.push(
          `<rect class="missing" x="${x + 1}" y="${y + 1}" width="${cell - 2}" height="${cell - 2}" fill="#1a1f29" data-testid="cell-${h(name)}-${la}-${lb}" data-missing="1" data-tip="${h(`A layer ${la} ↔ B layer ${lb}: not computed${unscoredByKey.has(`${la},${lb}`) ? ` (${unscoredByKey.get(`${la},${lb}`)})` : ''}`)}"></rect>` +
            `<text class="na" x="${x + cell / 2}" y="${y + cell / 2 + 3}" text-anchor="middle">n/a</text>`,
        );
        return;
      }
      const tObserved = (s.observed - lo) / (hi - lo);
      const tEffect = s.effect !== undefined ? (s.effect - elo) / (ehi - elo) : undefined;
      const fill: Record<View, string> = s.saturated
        ? { effect: SATURATED_FILL, observed: SATURATED_FILL }
        : { effect: tEffect !== undefined ? viridis(tEffect) : NO_EFFECT_FILL, observed: viridis(tObserved) };
      const ink: Record<View, string> = s.saturated ? { effect: '#d7dbe2', observed: '#d7dbe2' } : { effect: textColorOn(tEffect ?? 0), observed: textColorOn(tObserved) };
      const star = starred(s) ? '*' : '';
      const label: Record<View, string> = { effect: `${s.effect !== undefined ? s.effect.toFixed(1) : 'n/a'}${star}`, observed: `${s.observed.toFixed(2)}${star}` };
      parts.push(
        `<a href="#${pairAnchor(c, section)}"><rect class="cell${s.saturated ? ' saturated' : ''}" x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${fill.effect}"` +
          ` data-fill-effect="${fill.effect}" data-fill-observed="${fill.observed}"` +
          ` data-testid="cell-${h(name)}-${la}-${lb}" data-observed="${s.observed}" data-effect="${s.effect ?? ''}" data-p="${s.p}" data-q="${s.q ?? ''}" data-star="${star ? 1 : 0}"` +
          `${s.saturated ? ' data-saturated="1"' : ''} data-artifact="${h(s.artifactId)}"` +
          ` data-tip="${h(scoreTip(title, s, c))}" aria-label="${h(`${title} ${f3(s.observed)}, effect ${fe(s.effect)}, q ${fq(s.q)}${s.saturated ? ', saturated' : ''}`)}"></rect>` +
          (showValues
            ? `<text class="v" x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" style="fill:${ink.effect}" data-text-effect="${h(label.effect)}" data-text-observed="${h(label.observed)}" data-ink-effect="${ink.effect}" data-ink-observed="${ink.observed}">${h(label.effect)}</text>`
            : '') +
          `</a>`,
      );
    });
  });
  // Centred on the grid where that keeps the whole title inside the drawing, else moved in; the
  // A title stays above the B title's row.
  const xB = clampCentre(left + (layersB.length * cell) / 2, titleB.width, AXIS_PAD, w - AXIS_PAD);
  const yA = clampCentre(top + (layersA.length * cell) / 2, titleA.width, AXIS_PAD, hgt - 24 - AXIS_PAD);
  parts.push(`<text class="axis-title" data-testid="axis-b-${h(name)}" x="${xB}" y="${hgt - 10}" text-anchor="middle">${titleB.svg}</text>`);
  // Two lines stack towards the row labels: the first line's baseline moves left to keep both clear of them.
  parts.push(`<text class="axis-title" data-testid="axis-a-${h(name)}" data-lines="${titleA.lines}" transform="translate(${titleA.lines === 1 ? 14 : 12} ${yA}) rotate(-90)" text-anchor="middle">${titleA.svg}</text>`);
  const effectNote = distance ? 'null sds from the null mean; a distance: negative = more similar' : 'null sds from the null mean; positive = more similar than unrelated rows';
  const observedNote = distance ? 'a distance: lower = more similar' : 'observed score';
  return `<section class="card heatmap" data-testid="heatmap-${h(name)}">
  <h2>${h(title)} <span class="when-effect">(effect${distance ? '; negative = more similar' : ''})</span><span class="when-observed">(observed${distance ? '; a distance, lower = more similar' : ''})</span> <span class="muted">* q ≤ ${Q_STAR}</span></h2>
  <svg viewBox="0 0 ${w} ${hgt}" width="${w}" height="${hgt}" role="img" aria-label="${h(title)} heat-map">${parts.join('')}</svg>
  ${legend(name, 'effect', elo, ehi, effectNote, section, refs)}${legend(name, 'observed', lo, hi, observedNote, section)}
</section>`;
}

function bars(rows: Array<{ label: string; value: number; tick?: number; tip: string; testid: string; color: string }>, max: number): string {
  const rowH = 18;
  const labelW = 150;
  const barW = 230;
  const w = labelW + barW + 60;
  const body = rows
    .map((r, i) => {
      const y = i * rowH;
      const len = max > 0 ? (Math.max(0, r.value) / max) * barW : 0;
      const tick = r.tick !== undefined && max > 0 ? `<line x1="${labelW + (Math.max(0, r.tick) / max) * barW}" x2="${labelW + (Math.max(0, r.tick) / max) * barW}" y1="${y + 1}" y2="${y + rowH - 3}" stroke="#fff" stroke-width="2"/>` : '';
      return `<g data-testid="${h(r.testid)}" data-tip="${h(r.tip)}"><text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${h(r.label)}</text>` +
        `<rect x="${labelW}" y="${y + 2}" width="${len.toFixed(1)}" height="${rowH - 6}" fill="${r.color}" rx="2"/>${tick}` +
        `<text x="${labelW + len + 6}" y="${y + 12}" class="muted">${Number.isInteger(r.value) ? r.value : f3(r.value)}</text></g>`;
    })
    .join('');
  return `<svg class="bars" viewBox="0 0 ${w} ${rows.length * rowH}" width="${w}" height="${rows.length * rowH}">${body}</svg>`;
}

function scoreRow(name: string, s: SweepScore, metric: string): string {
  const row = `<tr data-testid="score-row" data-metric="${h(metric)}"${s.saturated ? ' class="saturated" data-saturated="1"' : ''}><td>${h(name)}${s.saturated ? ' <span class="badge-sat">saturated</span>' : ''}</td><td class="num">${f3(s.observed)}</td><td class="num">${f3(s.nullMean)}${s.nullSd !== undefined ? ` ± ${f3(s.nullSd)}` : ''}</td><td class="num">${fe(s.effect)}</td><td class="num">${fp(s.p)}</td><td class="num">${fq(s.q)}</td><td class="mono lineage">${h(s.artifactId)}</td></tr>`;
  const why = s.saturated ? `<tr class="saturated-note" data-testid="saturated-note" data-metric="${h(metric)}"><td colspan="7">${h(name)} is uninformative by construction: ${h(s.saturatedReason ?? 'no reason given')}</td></tr>` : '';
  return row + why;
}

const fitNum = (v: number | null, digits: number) => (v === null ? '–' : v.toFixed(digits));

function fitRow(side: 'A' | 'B', layer: number, f: SaeFitView): string {
  const poor = f.fvu !== null && f.fvu > FVU_WARNING;
  return `<tr data-testid="sae-fit" data-side="${side}"${poor ? ' class="poor-fit"' : ''}><td>${side} layer ${h(layer)}</td><td class="mono">${h(f.hookpoint)}</td>` +
    `<td class="num">${fitNum(f.fvu, 3)}${poor ? ' ⚠' : ''}</td><td class="num">${fitNum(f.l0, 1)}</td><td class="num">${f.deadFraction === null ? '–' : `${(100 * f.deadFraction).toFixed(1)}%`}</td>` +
    `<td class="mono lineage">${h(f.artifactId)}</td></tr>`;
}

function fitTable(c: SweepCell): string {
  if (!c.saeFit) return '';
  return `<h2 style="margin-top:10px">SAE fit on the corpus <span class="muted" style="font-weight:400">(FVU &gt; ${FVU_WARNING}: probably trained on another tensor)</span></h2>
  <table><thead><tr><th>side</th><th>trained on (hookpoint)</th><th class="num">FVU</th><th class="num">L0</th><th class="num">dead</th><th>artifact</th></tr></thead>
  <tbody>${fitRow('A', c.layerA, c.saeFit.a)}${fitRow('B', c.layerB, c.saeFit.b)}</tbody></table>`;
}

const fn = (v: number | null | undefined, digits = 1) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–');

/** One metric's layer correspondence: best layer of B per layer of A as a curve with its interval band, and the table behind it. */
function correspondenceCurve(data: SweepReportData, m: NonNullable<SweepReportData['correspondence']>['metrics'][number], artifactId: string, level: number): string {
  const title = titleOf({ name: m.metric });
  const { layersA, layersB } = data;
  const left = 56, top = 14, stepX = 44, stepY = 26;
  const w = left + Math.max(1, layersA.length) * stepX + 10;
  const hgt = top + Math.max(1, layersB.length) * stepY + 34;
  const xOf = (la: number) => left + layersA.indexOf(la) * stepX + stepX / 2;
  // B layers on a category axis (their order in the sweep), top = first layer.
  const yOf = (lb: number) => top + layersB.indexOf(lb) * stepY + stepY / 2;
  const rows = m.rows.filter((r) => layersA.includes(r.layerA) && layersB.includes(r.bestB));
  const band = rows.filter((r) => r.bestBLow !== null && r.bestBHigh !== null && layersB.includes(r.bestBLow) && layersB.includes(r.bestBHigh));
  const poly = band.length
    ? `<polygon class="band" data-testid="correspondence-band" points="${[...band.map((r) => `${xOf(r.layerA)},${yOf(r.bestBLow!)}`), ...[...band].reverse().map((r) => `${xOf(r.layerA)},${yOf(r.bestBHigh!)}`)].join(' ')}" fill="#7cc4ff" fill-opacity="0.25" stroke="#7cc4ff" stroke-opacity="0.4"/>` +
      band.map((r) => `<line x1="${xOf(r.layerA)}" x2="${xOf(r.layerA)}" y1="${yOf(r.bestBLow!)}" y2="${yOf(r.bestBHigh!)}" stroke="#7cc4ff" stroke-width="6" stroke-opacity="0.35"/>`).join('')
    : '';
  const line = rows.length > 1 ? `<polyline fill="none" stroke="#ffbf47" stroke-width="2" points="${rows.map((r) => `${xOf(r.layerA)},${yOf(r.bestB)}`).join(' ')}"/>` : '';
  const dots = rows
    .map((r) => {
      const tip = `A layer ${r.layerA}: best B layer ${r.bestB} (${Math.round(level * 100)}% of resamples within ${fn(r.bestBLow, 0)}–${fn(r.bestBHigh, 0)}; ${fn(r.bestShare === null ? null : 100 * r.bestShare, 0)}% choose ${r.bestB})\n${title} effect ${fe(r.effect)} [${fn(r.effectLow)}, ${fn(r.effectHigh)}]\nartifact ${artifactId}`;
      return `<circle cx="${xOf(r.layerA)}" cy="${yOf(r.bestB)}" r="5" fill="#ffbf47" data-testid="correspondence-point" data-layer-a="${r.layerA}" data-layer-b="${r.bestB}" data-tip="${h(tip)}"/>`;
    })
    .join('');
  const axes = [
    ...layersA.map((la) => `<text x="${xOf(la)}" y="${hgt - 20}" text-anchor="middle">${h(la)}</text>`),
    ...layersB.map((lb) => `<text x="${left - 8}" y="${yOf(lb) + 4}" text-anchor="end">${h(lb)}</text>`),
    `<text x="${left + (layersA.length * stepX) / 2}" y="${hgt - 4}" text-anchor="middle">layer of A</text>`,
    `<text transform="translate(12 ${top + (layersB.length * stepY) / 2}) rotate(-90)" text-anchor="middle">best layer of B</text>`,
  ].join('');
  const table = rows
    .map(
      (r) =>
        `<tr data-testid="correspondence-row" data-metric="${h(m.metric)}" data-layer-a="${r.layerA}" data-layer-b="${r.bestB}"><td>${h(r.layerA)}</td><td>${h(r.bestB)}</td><td class="num">${fn(r.bestBLow, 0)}–${fn(r.bestBHigh, 0)}</td><td class="num">${fn(r.bestShare === null ? null : 100 * r.bestShare, 0)}%</td><td class="num">${fe(r.effect)}</td><td class="num">[${fn(r.effectLow)}, ${fn(r.effectHigh)}]</td><td class="mono lineage">${h(artifactId)}</td></tr>`,
    )
    .join('');
  return `<div class="correspondence" data-testid="correspondence-${h(m.metric)}"><h3>${h(title)}</h3>
  <svg viewBox="0 0 ${w} ${hgt}" width="${w}" height="${hgt}" role="img" aria-label="${h(`${title}: best layer of B for each layer of A`)}">${poly}${line}${dots}${axes}</svg>
  <table><thead><tr><th>layer A</th><th>best layer B</th><th class="num">${Math.round(level * 100)}% interval</th><th class="num">resamples choosing it</th><th class="num">effect</th><th class="num">${Math.round(level * 100)}% interval</th><th>artifact</th></tr></thead><tbody>${table}</tbody></table></div>`;
}

function correspondenceSection(data: SweepReportData): string {
  const c = data.correspondence;
  if (!c || c.metrics.length === 0) return '';
  return `<section class="card correspondence-card" data-testid="correspondence">
  <h2>Layer correspondence <span class="muted" style="font-weight:400">(for each layer of A, the layer of B with the largest effect; band: the ${Math.round(c.level * 100)}% interval of the chosen layer over bootstrap resamples of the paired rows, the null held fixed)</span></h2>
  ${c.metrics.map((m) => correspondenceCurve(data, m, c.artifactId, c.level)).join('')}
  <div class="lineage">artifact <span class="mono">${h(c.artifactId)}</span></div>
</section>`;
}

/** The card's selection-null table: each metric against the shifts, then what every shift kept. */
function selectionTable(c: SweepCell, metrics: SweepMetric[]): string {
  const sel = c.selection;
  if (!sel) return '';
  const rows = metrics.flatMap((m) => {
    const s = sel.scores[m.name];
    if (s) return [scoreRow(titleOf(m), s, m.name).replace(/data-testid="score-row"/g, 'data-testid="selection-row"').replace(/data-testid="saturated-note"/g, 'data-testid="selection-saturated-note"')];
    const why = sel.skipped?.[m.name];
    return why ? [`<tr data-testid="selection-skip" data-metric="${h(m.name)}"><td>${h(titleOf(m))}</td><td colspan="6" class="muted">${h(why)}</td></tr>`] : [];
  });
  const shifts = sel.shifts.map((x) => `<span data-testid="selection-shift" data-shift="${x.shift}" data-pairs="${x.pairs}" data-tip="${h(`shift ${x.shift}: ${x.pairs} pairs kept\nartifact ${x.artifactId}`)}">s=${x.shift}: ${x.pairs}</span>`).join(' · ');
  return `<h2 style="margin-top:10px">Against the selection-aware null <span class="muted" style="font-weight:400">(pairing and filters re-run with B's documents shifted by s against A's; null = the shifts' scores; p from Student's t)</span></h2>
  <table data-testid="selection-table"><thead><tr><th>score</th><th class="num">observed</th><th class="num">shifts</th><th class="num">effect</th><th class="num">p</th><th class="num">q</th><th>artifact</th></tr></thead>
  <tbody>${rows.join('')}</tbody></table>
  <div class="muted" data-testid="selection-shifts">pairs kept per shift: ${shifts || 'none'} &nbsp;(${c.counts[4] !== undefined ? `unshifted: ${c.counts[4].count}` : ''}) &nbsp;artifact <span class="mono lineage">${h(sel.artifactId)}</span></div>`;
}

function pairCard(c: SweepCell, metrics: SweepMetric[], section = ''): string {
  const subRows = c.subspaces.flatMap((s) =>
    (['svcca', 'rsa'] as const)
      .filter((k) => s[k] !== undefined)
      .map((k) => ({
        label: `${s.name} · ${SCORE_TITLE[k]}`,
        value: s[k]!.observed,
        tick: s[k]!.nullMean,
        tip: `${s.name} (${s.n} pairs)\n${SCORE_TITLE[k]} ${f3(s[k]!.observed)}, null mean ${f3(s[k]!.nullMean)}, effect ${fe(s[k]!.effect)}, p = ${fp(s[k]!.p)}, q = ${fq(s[k]!.q)}\nartifact ${s[k]!.artifactId}`,
        testid: `subspace-${k}`,
        color: k === 'svcca' ? '#7cc4ff' : '#c77dff',
      })),
  );
  const maxSub = Math.max(1, ...subRows.map((r) => r.value));
  const skips = c.subspaces.flatMap((s) =>
    (['svcca', 'rsa'] as const).flatMap((k) => (s.skipped?.[k] ? [`<li data-testid="subspace-skip" data-metric="${k}">${h(s.name)} · ${h(SCORE_TITLE[k]!)}: ${h(s.skipped[k]!)}</li>`] : [])),
  );
  const countRows = c.counts.map((k) => ({
    label: k.stage,
    value: k.count,
    tip: `${k.stage}: ${k.count} pairs${k.artifactId ? `\nartifact ${k.artifactId}` : ''}`,
    testid: 'count',
    color: '#ffbf47',
  }));
  const maxCount = Math.max(1, ...c.counts.map((k) => k.count));
  // Only links of the shape ufg writes; anything else (a `javascript:` URL in edited JSON) is text.
  const link = c.featureMap && isMapHref(c.featureMap)
    ? `<a href="${h(c.featureMap)}" data-testid="feature-map-link">feature map →</a>`
    : '<span class="muted">(no feature map)</span>';
  return `<section class="card pair" id="${pairAnchor(c, section)}" data-testid="pair-card">
  <h3>A layer ${h(c.layerA)} ↔ B layer ${h(c.layerB)} ${link}</h3>
  ${c.method ? `<div class="muted" data-testid="pair-method" data-method="${h(c.method)}">${h(METHOD_TITLE[c.method] ?? c.method)}</div>` : ''}
  <table><thead><tr><th>score</th><th class="num">observed</th><th class="num">null</th><th class="num" title="(observed − null mean) / null sd; for distances negative = more similar">effect</th><th class="num">p</th><th class="num" title="Benjamini–Hochberg over every scored row of the sweep">q</th><th>artifact</th></tr></thead>
  <tbody>${metrics.flatMap((m) => {
    const s = scoreOf(c, m.name);
    return s ? [scoreRow(titleOf(m), s, m.name)] : [];
  }).join('')}</tbody></table>
  ${selectionTable(c, metrics)}
  ${fitTable(c)}
  <h2 style="margin-top:10px">Semantic subspaces <span class="muted" style="font-weight:400">(bar: observed, white tick: null mean)</span></h2>
  ${subRows.length ? bars(subRows, maxSub) : '<p class="muted">no subspace scores</p>'}
  ${skips.length ? `<ul class="skips muted">${skips.join('')}</ul>` : ''}
  <h2 style="margin-top:10px">Pairs after each filter stage</h2>
  ${countRows.length ? bars(countRows, maxCount) : '<p class="muted">no counts</p>'}
  <div class="lineage">result artifact <span class="mono" data-testid="pair-artifact">${h(c.artifactId)}</span></div>
</section>`;
}

export function renderSweepReportHtml(data: SweepReportData): string {
  const title = data.title ?? `${data.modelA} vs ${data.modelB}: layer sweep`;
  const order = (a: SweepCell, b: SweepCell) =>
    data.layersA.indexOf(a.layerA) - data.layersA.indexOf(b.layerA) || data.layersB.indexOf(a.layerB) - data.layersB.indexOf(b.layerB);
  const cells = [...data.cells].sort(order);
  const metrics = data.metrics && data.metrics.length > 0 ? data.metrics : DEFAULT_METRICS;
  if (data.modelPairs) return manyModelPage(data, data.modelPairs, metrics);
  return `${pageHead(title, 'sweep report', ['page.css', 'sweep.css'], ['sweep.js'])}
<body data-colour="effect">
<header>
  <h1>${h(title)}</h1>
  <div class="meta">A: <b>${h(data.modelA)}</b> (layers ${h(data.layersA.join(', '))}) &nbsp;·&nbsp; B: <b>${h(data.modelB)}</b> (layers ${h(data.layersB.join(', '))})
  ${data.sweepId ? `&nbsp;·&nbsp; sweep <span class="mono">${h(data.sweepId)}</span>` : ''}${data.createdAt ? ` &nbsp;·&nbsp; ${h(data.createdAt)}` : ''}
  &nbsp;·&nbsp; ${data.cells.length} layer pairs${data.failed && data.failed.length > 0 ? `, <span class="failed-count" data-testid="failed-count">${data.failed.length} failed</span>` : ''}</div>
</header>
<main>
  ${data.warnings && data.warnings.length > 0 ? `<section class="card warnings" data-testid="warnings"><h2>Check these SAEs</h2><ul>${data.warnings.map((w) => `<li>${h(w)}</li>`).join('')}</ul></section>` : ''}
  <div class="view-switch" role="radiogroup" aria-label="heat-map colour">Colour cells by
    <label><input type="radio" name="colour" value="effect" data-testid="colour-effect" checked> effect</label>
    <label><input type="radio" name="colour" value="observed" data-testid="colour-observed"> observed score</label>
    <span class="muted" data-testid="colour-mode"><span class="when-effect">Showing the effect: (observed − null mean) / null sd, the distance from what unrelated rows score at this n.</span><span class="when-observed">Showing the observed score (its raw value; at small n it may sit far from 0 for unrelated rows — see the effect).</span></span>
  </div>
  <div class="heatmaps">${metrics.map((m) => heatmap(data, m)).join('')}</div>
  ${correspondenceSection(data)}
  <p class="legend">* marks q ≤ ${Q_STAR}: the Benjamini–Hochberg q over every scored cell, subspace and metric of the sweep (the results table's <span class="mono">q</span>), not the raw p. Grey cells are saturated: the score is uninformative by construction at this number of pairs (the tooltip and the card say why). Hover a cell for its null mean, effect, p, q and artifact id; click it for the layer pair's details. Every artifact id resolves with <span class="mono">ufg lineage &lt;id&gt;</span>.</p>
  <div class="pairs">${cells.map((c) => pairCard(c, metrics)).join('\n')}</div>
</main>
<div id="tooltip" data-testid="tooltip" role="tooltip"></div>
${scriptTag('sweep.js')}
</body>
</html>
`;
}

const sectionId = (sec: Pick<ModelPairSection, 'a' | 'b'>) => `${sec.a}_vs_${sec.b}`;

/** One model pair of an N-model sweep: its heat-maps and cards, the controls ticked on its legends. */
function modelPairSection(sec: ModelPairSection, metrics: SweepMetric[], refs: (metric: string) => ControlRefs): string {
  const id = sectionId(sec);
  const order = (x: SweepCell, y: SweepCell) => sec.layersA.indexOf(x.layerA) - sec.layersA.indexOf(y.layerA) || sec.layersB.indexOf(x.layerB) - sec.layersB.indexOf(y.layerB);
  const failed = sec.failed?.length ?? 0;
  return `<section class="model-pair" id="models-${h(id)}" data-testid="model-pair" data-a="${h(sec.a)}" data-b="${h(sec.b)}"${sec.control ? ` data-control="${sec.control}"` : ''}>
  <h2 class="model-pair-title">A: <b>${h(sec.modelA)}</b> (layers ${h(sec.layersA.join(', '))}) vs B: <b>${h(sec.modelB)}</b> (layers ${h(sec.layersB.join(', '))})${sec.control ? ` <span class="badge-control" data-testid="control-badge">${sec.control}</span>` : ''}
  <span class="muted">${sec.cells.length} layer pairs${failed > 0 ? `, <span class="failed-count" data-testid="failed-count">${failed} failed</span>` : ''}</span></h2>
  <div class="heatmaps">${metrics.map((m) => heatmap(sec, m, id, refs(m.name))).join('')}</div>
  <div class="pairs">${[...sec.cells].sort(order).map((c) => pairCard(c, metrics, id)).join('\n')}</div>
</section>`;
}

function manyModelPage(data: SweepReportData, sections: ModelPairSection[], metrics: SweepMetric[]): string {
  const models = data.models ?? [];
  const title = data.title ?? `${models.filter((m) => !m.control).map((m) => m.name).join(' vs ')}: model × model sweep`;
  const refs = (metric: string) => controlRefs(data.summary ?? [], metric, models);
  const cells = sections.reduce((n, s) => n + s.cells.length, 0);
  const failed = sections.reduce((n, s) => n + (s.failed?.length ?? 0), 0);
  return `${pageHead(title, 'sweep report', ['page.css', 'sweep.css'], ['sweep.js'])}
<body data-colour="effect">
<header>
  <h1>${h(title)}</h1>
  <div class="meta">${models.map((m) => `<b>${h(m.name)}</b> <span class="mono">(${h(m.key)})</span>`).join(' &nbsp;·&nbsp; ')}
  ${data.sweepId ? `&nbsp;·&nbsp; sweep <span class="mono">${h(data.sweepId)}</span>` : ''}${data.createdAt ? ` &nbsp;·&nbsp; ${h(data.createdAt)}` : ''}
  &nbsp;·&nbsp; ${sections.length} model pairs, ${cells} layer pairs${failed > 0 ? `, <span class="failed-count" data-testid="failed-count-total">${failed} failed</span>` : ''}</div>
</header>
<main>
  ${data.warnings && data.warnings.length > 0 ? `<section class="card warnings" data-testid="warnings"><h2>Check these SAEs</h2><ul>${data.warnings.map((w) => `<li>${h(w)}</li>`).join('')}</ul></section>` : ''}
  ${summarySection(data.summary ?? [], metrics, models, (a, b) => `#models-${sectionId({ a, b })}`, titleOf)}
  <div class="view-switch" role="radiogroup" aria-label="heat-map colour">Colour cells by
    <label><input type="radio" name="colour" value="effect" data-testid="colour-effect" checked> effect</label>
    <label><input type="radio" name="colour" value="observed" data-testid="colour-observed"> observed score</label>
    <span class="muted" data-testid="colour-mode"><span class="when-effect">Showing the effect: (observed − null mean) / null sd, the distance from what unrelated rows score at this n.</span><span class="when-observed">Showing the observed score (its raw value; at small n it may sit far from 0 for unrelated rows — see the effect).</span></span>
  </div>
  <p class="legend">* marks q ≤ ${Q_STAR}: the Benjamini–Hochberg q over every scored cell, subspace, metric and model pair of the sweep (the results table's <span class="mono">q</span>), not the raw p. Grey cells are saturated. The dashed ticks on each effect legend are the controls' best effects for that metric (white: ceiling, red: floor). Every artifact id resolves with <span class="mono">ufg lineage &lt;id&gt;</span>.</p>
  ${sections.map((sec) => modelPairSection(sec, metrics, refs)).join('\n')}
</main>
<div id="tooltip" data-testid="tooltip" role="tooltip"></div>
${scriptTag('sweep.js')}
</body>
</html>
`;
}
