// The model × model summary at the top of an N-model sweep's report: per metric, a matrix of the
// user models with each pair's best layer-pair effect (summary.ts; symmetric, the diagonal empty),
// and a bar per model pair with the controls drawn as reference lines — the ceiling (a model
// against itself through another SAE) and the floor (a model against its random-init copy).
// Every number carries the artifact id of the scores it comes from.
import { textColorOn, viridis } from './colorScale.ts';
import { escapeHtml as h } from './escape.ts';
import type { ControlKind, SweepMetric, SweepModelEntry, SweepSummaryEntry } from './types.ts';

export interface ControlRef {
  effect: number;
  artifactId: string;
  /** Which models and layers, for the tooltip. */
  label: string;
}

export type ControlRefs = Partial<Record<ControlKind, ControlRef>>;

const fe = (e: number) => `${e >= 0 ? '+' : ''}${e.toFixed(1)}`;
const nameOf = (models: readonly SweepModelEntry[], key: string) => models.find((m) => m.key === key)?.name ?? key;

function where(models: readonly SweepModelEntry[], e: SweepSummaryEntry): string {
  return `${nameOf(models, e.a)} layer ${e.best!.layerA} ↔ ${nameOf(models, e.b)} layer ${e.best!.layerB}`;
}

/** The controls' best effects for `metric` (the reference lines and legend ticks). */
export function controlRefs(summary: readonly SweepSummaryEntry[], metric: string, models: readonly SweepModelEntry[]): ControlRefs {
  const out: ControlRefs = {};
  for (const e of summary) {
    if (e.metric !== metric || !e.control || !e.best || e.best.score.effect === undefined) continue;
    out[e.control] = { effect: e.best.score.effect, artifactId: e.best.score.artifactId, label: where(models, e) };
  }
  return out;
}

const starred = (e: SweepSummaryEntry) => e.best?.score.q !== undefined && e.best.score.q <= 0.05;

function matrix(entries: SweepSummaryEntry[], metric: SweepMetric, users: SweepModelEntry[], models: readonly SweepModelEntry[], hrefOf: (a: string, b: string) => string, lo: number, hi: number): string {
  const find = (x: string, y: string) => entries.find((e) => (e.a === x && e.b === y) || (e.a === y && e.b === x));
  const head = `<tr><th></th>${users.map((m) => `<th>${h(m.name)}</th>`).join('')}</tr>`;
  const rows = users
    .map((row) => {
      const tds = users.map((col) => {
        if (row.key === col.key) return `<td class="diag" data-testid="summary-cell-${h(metric.name)}-${h(row.key)}-${h(col.key)}" data-diagonal="1">—</td>`;
        const e = find(row.key, col.key);
        const id = `summary-cell-${h(metric.name)}-${h(row.key)}-${h(col.key)}`;
        if (!e?.best || e.best.score.effect === undefined) return `<td class="na" data-testid="${id}" data-missing="1"${e?.note ? ` data-tip="${h(e.note)}"` : ''}>n/a</td>`;
        const s = e.best.score;
        const t = (s.effect! - lo) / (hi - lo);
        const tip = `${where(models, e)}\nbest effect ${fe(s.effect!)} null sd (observed ${s.observed.toFixed(3)}, null mean ${s.nullMean.toFixed(3)})\np = ${s.p}, q = ${s.q ?? 'n/a'}\nartifact ${s.artifactId}`;
        return `<td class="sum" style="background:${viridis(t)};color:${textColorOn(t)}" data-testid="${id}" data-effect="${s.effect}" data-observed="${s.observed}" data-layer-a="${e.best.layerA}" data-layer-b="${e.best.layerB}" data-artifact="${h(s.artifactId)}" data-tip="${h(tip)}">` +
          `<a href="${h(hrefOf(e.a, e.b))}" style="color:inherit">${h(fe(s.effect!))}${starred(e) ? '*' : ''}</a><div class="sub">A${e.best.layerA}↔B${e.best.layerB}</div></td>`;
      });
      return `<tr><th>${h(row.name)}</th>${tds.join('')}</tr>`;
    })
    .join('');
  return `<table class="summary-matrix" data-testid="summary-matrix-${h(metric.name)}">${head}${rows}</table>`;
}

/** One bar per model pair (its best effect), the controls as vertical reference lines across all bars. */
function bars(entries: SweepSummaryEntry[], metric: SweepMetric, models: readonly SweepModelEntry[], refs: ControlRefs, lo: number, hi: number): string {
  const shown = entries.filter((e) => e.best?.score.effect !== undefined);
  if (shown.length === 0 && !refs.ceiling && !refs.floor) return '';
  const labelW = 330, barW = 260, rowH = 18, top = 14;
  const x = (v: number) => labelW + ((v - lo) / (hi - lo)) * barW;
  const zero = x(0);
  const height = top + Math.max(1, shown.length) * rowH + 6;
  const body = shown
    .map((e, i) => {
      const v = e.best!.score.effect!;
      const y = top + i * rowH;
      const [x0, x1] = v >= 0 ? [zero, x(v)] : [x(v), zero];
      return `<g data-testid="summary-bar-${h(metric.name)}-${h(e.a)}-${h(e.b)}" data-effect="${v}" data-artifact="${h(e.best!.score.artifactId)}" data-tip="${h(`${where(models, e)}\nbest effect ${fe(v)}\nartifact ${e.best!.score.artifactId}`)}">` +
        `<text x="${labelW - 6}" y="${y + 12}" text-anchor="end">${h(`${nameOf(models, e.a)} × ${nameOf(models, e.b)}`)}</text>` +
        `<rect x="${x0.toFixed(1)}" y="${y + 2}" width="${Math.max(1, x1 - x0).toFixed(1)}" height="${rowH - 6}" fill="#7cc4ff" rx="2"/></g>`;
    })
    .join('');
  const lines = (['ceiling', 'floor'] as const)
    .flatMap((kind) => {
      const r = refs[kind];
      if (!r) return [];
      const xr = x(r.effect).toFixed(1);
      return [
        `<g data-testid="ref-line-${h(metric.name)}-${kind}" data-effect="${r.effect}" data-artifact="${h(r.artifactId)}" data-tip="${h(`${kind}: best effect ${fe(r.effect)} (${r.label})\nartifact ${r.artifactId}`)}">` +
          `<line x1="${xr}" x2="${xr}" y1="${top - 4}" y2="${height - 4}" stroke="${kind === 'ceiling' ? '#ffffff' : '#ff6b6b'}" stroke-width="2" stroke-dasharray="4 3"/>` +
          `<text x="${xr}" y="10" text-anchor="middle" style="fill:#d7dbe2;font-size:10px">${kind} ${h(fe(r.effect))}</text></g>`,
      ];
    })
    .join('');
  const w = labelW + barW + 40;
  return `<svg class="summary-bars" data-testid="summary-bars-${h(metric.name)}" viewBox="0 0 ${w} ${height}" width="${w}" height="${height}" role="img" aria-label="best effect per model pair">` +
    `<line x1="${zero.toFixed(1)}" x2="${zero.toFixed(1)}" y1="${top - 2}" y2="${height - 4}" stroke="#8b95a7" stroke-width="1"/>${body}${lines}</svg>`;
}

function controlRows(entries: SweepSummaryEntry[], metric: SweepMetric, models: readonly SweepModelEntry[]): string {
  const rows = entries
    .filter((e) => e.control)
    .map((e) => {
      const s = e.best?.score;
      return `<tr class="control-row" data-testid="summary-control-${h(metric.name)}-${e.control}" data-control="${e.control}"${s ? ` data-effect="${s.effect}" data-artifact="${h(s.artifactId)}"` : ''}>` +
        `<td><span class="badge-control">${e.control}</span></td><td>${h(nameOf(models, e.a))} vs ${h(nameOf(models, e.b))}</td>` +
        `<td class="num">${s?.effect !== undefined ? h(fe(s.effect)) : 'n/a'}</td><td>${e.best ? `A${e.best.layerA}↔B${e.best.layerB}` : `<span class="muted" data-testid="summary-control-note">${h(e.note ?? '')}</span>`}</td><td class="mono lineage">${s ? h(s.artifactId) : ''}</td></tr>`;
    });
  return rows.length ? `<table class="summary-controls"><thead><tr><th>control</th><th>models</th><th class="num">best effect</th><th>layers</th><th>artifact</th></tr></thead><tbody>${rows.join('')}</tbody></table>` : '';
}

export function summarySection(
  summary: readonly SweepSummaryEntry[],
  metrics: readonly SweepMetric[],
  models: readonly SweepModelEntry[],
  hrefOf: (a: string, b: string) => string,
  titleOf: (m: SweepMetric) => string,
): string {
  const users = models.filter((m) => !m.control);
  const blocks = metrics.map((metric) => {
    const entries = summary.filter((e) => e.metric === metric.name);
    const refs = controlRefs(summary, metric.name, models);
    const effects = entries.flatMap((e) => (e.best?.score.effect !== undefined ? [e.best.score.effect] : []));
    const lo = Math.min(0, ...effects);
    const hi = Math.max(0, ...effects);
    const [l, u] = hi > lo ? [lo, hi] : [lo - 1, hi + 1];
    const userEntries = entries.filter((e) => !e.control);
    const distance = metric.largerIsMoreSimilar === false;
    return `<div class="summary-metric" data-testid="summary-${h(metric.name)}"><h3>${h(titleOf(metric))} <span class="muted">best layer-pair effect${distance ? ' (a distance: the most negative)' : ''}</span></h3>
    ${matrix(userEntries, metric, users, models, hrefOf, l, u)}
    ${bars(userEntries, metric, models, refs, l, u)}
    ${controlRows(entries, metric, models)}</div>`;
  });
  return `<section class="card summary" data-testid="summary"><h2>Model × model summary <span class="muted" style="font-weight:400">(per model pair, the layer pair with the best effect; dashed lines: the controls)</span></h2>
  <div class="summary-grid">${blocks.join('')}</div></section>`;
}
