// Checks JSON handed to `ufg umap` / `ufg report` before anything is rendered: a page built from
// malformed data would fail silently in the browser, so the first bad field is reported by path.
import { readFileSync } from 'node:fs';
import { UserInputError } from '../errors.ts';
import { isMapHref } from './escape.ts';
import type { Categories } from './categories.ts';
import {
  MAPPING_METHODS,
  METRIC_NAMES,
  type FeatureMapData,
  type SweepReportData,
  type SweepScore,
} from './types.ts';

class Shape {
  constructor(readonly file: string) {}
  fail(path: string, problem: string): never {
    throw new UserInputError(`${path}: ${problem}`, this.file);
  }
  obj(v: unknown, path: string): Record<string, unknown> {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) this.fail(path, 'expected an object');
    return v as Record<string, unknown>;
  }
  arr(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'expected an array');
    return v;
  }
  num(v: unknown, path: string): number {
    if (typeof v !== 'number' || !Number.isFinite(v)) this.fail(path, `expected a finite number, got ${JSON.stringify(v)}`);
    return v;
  }
  int(v: unknown, path: string): number {
    const n = this.num(v, path);
    if (!Number.isInteger(n) || n < 0) this.fail(path, `expected a non-negative integer, got ${n}`);
    return n;
  }
  str(v: unknown, path: string): string {
    if (typeof v !== 'string') this.fail(path, 'expected a string');
    return v;
  }
  optStr(v: unknown, path: string): void {
    if (v !== undefined) this.str(v, path);
  }
}

export function readJsonFile(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UserInputError(`cannot read file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`, file);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new UserInputError(`not valid JSON (${(e as Error).message})`, file);
  }
}

function checkMetricSet(s: Shape, v: unknown, path: string): void {
  const o = s.obj(v, path);
  for (const [k, m] of Object.entries(o)) {
    if (!(METRIC_NAMES as readonly string[]).includes(k)) s.fail(`${path}.${k}`, `unknown metric (expected ${METRIC_NAMES.join(', ')})`);
    const mo = s.obj(m, `${path}.${k}`);
    for (const f of ['observed', 'nullMean', 'nullSd', 'p']) s.num(mo[f], `${path}.${k}.${f}`);
    s.optStr(mo.artifactId, `${path}.${k}.artifactId`);
  }
}

export function validateFeatureMap(v: unknown, file: string): FeatureMapData {
  const s = new Shape(file);
  const o = s.obj(v, '$');
  if (o.kind !== 'ufg.featureMap') s.fail('$.kind', `expected "ufg.featureMap", got ${JSON.stringify(o.kind)}`);
  if (o.version !== 1) s.fail('$.version', `unsupported version ${JSON.stringify(o.version)}`);
  s.optStr(o.title, '$.title');
  for (const side of ['sideA', 'sideB']) {
    const m = s.obj(o[side], `$.${side}`);
    s.str(m.model, `$.${side}.model`);
    s.int(m.layer, `$.${side}.layer`);
    s.optStr(m.sae, `$.${side}.sae`);
  }
  if (!(MAPPING_METHODS as readonly unknown[]).includes(o.method))
    s.fail('$.method', `expected one of ${MAPPING_METHODS.join(', ')}, got ${JSON.stringify(o.method)}`);
  const sizes: Record<string, number> = {};
  for (const key of ['pointsA', 'pointsB']) {
    const pts = s.arr(o[key], `$.${key}`);
    pts.forEach((p, i) => {
      const po = s.obj(p, `$.${key}[${i}]`);
      s.int(po.id, `$.${key}[${i}].id`);
      s.str(po.label, `$.${key}[${i}].label`);
      s.num(po.x, `$.${key}[${i}].x`);
      s.num(po.y, `$.${key}[${i}].y`);
      s.optStr(po.category, `$.${key}[${i}].category`);
    });
    sizes[key] = pts.length;
  }
  s.arr(o.pairs, '$.pairs').forEach((p, i) => {
    const po = s.obj(p, `$.pairs[${i}]`);
    if (s.int(po.a, `$.pairs[${i}].a`) >= sizes.pointsA!) s.fail(`$.pairs[${i}].a`, `index ${po.a} but only ${sizes.pointsA} points in A`);
    if (s.int(po.b, `$.pairs[${i}].b`) >= sizes.pointsB!) s.fail(`$.pairs[${i}].b`, `index ${po.b} but only ${sizes.pointsB} points in B`);
    s.num(po.correlation, `$.pairs[${i}].correlation`);
  });
  s.arr(o.groups, '$.groups').forEach((g, i) => {
    const go = s.obj(g, `$.groups[${i}]`);
    s.str(go.name, `$.groups[${i}].name`);
    s.arr(go.a, `$.groups[${i}].a`).forEach((x, j) => s.int(x, `$.groups[${i}].a[${j}]`));
    s.arr(go.b, `$.groups[${i}].b`).forEach((x, j) => s.int(x, `$.groups[${i}].b[${j}]`));
  });
  const metrics = s.obj(o.metrics, '$.metrics');
  checkMetricSet(s, metrics.selection, '$.metrics.selection');
  for (const [k, m] of Object.entries(s.obj(metrics.groups, '$.metrics.groups'))) checkMetricSet(s, m, `$.metrics.groups.${k}`);
  for (const [k, id] of Object.entries(s.obj(o.provenance, '$.provenance'))) s.str(id, `$.provenance.${k}`);
  return v as FeatureMapData;
}

function checkFit(s: Shape, v: unknown, path: string): void {
  const o = s.obj(v, path);
  s.str(o.hookpoint, `${path}.hookpoint`);
  for (const k of ['fvu', 'l0', 'deadFraction']) if (o[k] !== null) s.num(o[k], `${path}.${k}`);
  s.str(o.artifactId, `${path}.artifactId`);
}

function checkScore(s: Shape, v: unknown, path: string): SweepScore {
  const o = s.obj(v, path);
  s.num(o.observed, `${path}.observed`);
  s.num(o.nullMean, `${path}.nullMean`);
  if (o.nullSd !== undefined) s.num(o.nullSd, `${path}.nullSd`);
  if (o.effect !== undefined) s.num(o.effect, `${path}.effect`);
  s.num(o.p, `${path}.p`);
  if (o.q !== undefined && !(s.num(o.q, `${path}.q`) >= 0 && (o.q as number) <= 1)) s.fail(`${path}.q`, `expected a q-value in [0, 1], got ${o.q}`);
  if (o.saturated !== undefined && typeof o.saturated !== 'boolean') s.fail(`${path}.saturated`, 'expected a boolean');
  s.optStr(o.saturatedReason, `${path}.saturatedReason`);
  s.str(o.artifactId, `${path}.artifactId`);
  return o as unknown as SweepScore;
}

export function validateSweepReport(v: unknown, file: string): SweepReportData {
  const s = new Shape(file);
  const o = s.obj(v, '$');
  if (o.kind !== 'ufg.sweepReport') s.fail('$.kind', `expected "ufg.sweepReport", got ${JSON.stringify(o.kind)}`);
  if (o.version !== 1) s.fail('$.version', `unsupported version ${JSON.stringify(o.version)}`);
  s.optStr(o.title, '$.title');
  s.optStr(o.sweepId, '$.sweepId');
  s.optStr(o.createdAt, '$.createdAt');
  if (o.warnings !== undefined) s.arr(o.warnings, '$.warnings').forEach((w, i) => s.str(w, `$.warnings[${i}]`));
  if (o.correspondence !== undefined) {
    const co = s.obj(o.correspondence, '$.correspondence');
    s.num(co.level, '$.correspondence.level');
    s.str(co.artifactId, '$.correspondence.artifactId');
    s.arr(co.metrics, '$.correspondence.metrics').forEach((m, i) => {
      const mo = s.obj(m, `$.correspondence.metrics[${i}]`);
      s.str(mo.metric, `$.correspondence.metrics[${i}].metric`);
      s.arr(mo.rows, `$.correspondence.metrics[${i}].rows`).forEach((r, j) => {
        const ro = s.obj(r, `$.correspondence.metrics[${i}].rows[${j}]`);
        for (const k of ['layerA', 'bestB']) s.int(ro[k], `$.correspondence.metrics[${i}].rows[${j}].${k}`);
        s.num(ro.effect, `$.correspondence.metrics[${i}].rows[${j}].effect`);
        for (const k of ['effectLow', 'effectHigh', 'bestBLow', 'bestBHigh', 'bestShare']) if (ro[k] !== null) s.num(ro[k], `$.correspondence.metrics[${i}].rows[${j}].${k}`);
      });
    });
  }
  if (o.metrics !== undefined) {
    s.arr(o.metrics, '$.metrics').forEach((m, i) => {
      const mo = s.obj(m, `$.metrics[${i}]`);
      s.str(mo.name, `$.metrics[${i}].name`);
      s.optStr(mo.title, `$.metrics[${i}].title`);
      if (mo.largerIsMoreSimilar !== undefined && typeof mo.largerIsMoreSimilar !== 'boolean') s.fail(`$.metrics[${i}].largerIsMoreSimilar`, 'expected a boolean');
    });
  }
  checkGrid(s, o, '$');
  if (o.modelPairs !== undefined) {
    s.arr(o.modelPairs, '$.modelPairs').forEach((g, i) => {
      const go = s.obj(g, `$.modelPairs[${i}]`);
      s.str(go.a, `$.modelPairs[${i}].a`);
      s.str(go.b, `$.modelPairs[${i}].b`);
      if (go.control !== undefined && go.control !== 'ceiling' && go.control !== 'floor') s.fail(`$.modelPairs[${i}].control`, `expected "ceiling" or "floor", got ${JSON.stringify(go.control)}`);
      checkGrid(s, go, `$.modelPairs[${i}]`);
    });
    s.arr(o.models, '$.models').forEach((m, i) => {
      const mo = s.obj(m, `$.models[${i}]`);
      s.str(mo.key, `$.models[${i}].key`);
      s.str(mo.name, `$.models[${i}].name`);
    });
    s.arr(o.summary, '$.summary').forEach((e, i) => {
      const eo = s.obj(e, `$.summary[${i}]`);
      s.str(eo.a, `$.summary[${i}].a`);
      s.str(eo.b, `$.summary[${i}].b`);
      s.str(eo.metric, `$.summary[${i}].metric`);
      s.optStr(eo.note, `$.summary[${i}].note`);
      if (eo.best !== undefined) {
        const bo = s.obj(eo.best, `$.summary[${i}].best`);
        s.int(bo.layerA, `$.summary[${i}].best.layerA`);
        s.int(bo.layerB, `$.summary[${i}].best.layerB`);
        checkScore(s, bo.score, `$.summary[${i}].best.score`);
      }
    });
  }
  return v as SweepReportData;
}

/** One model pair's grid (a two-model report's top level, or each of an N-model report's modelPairs). */
function checkGrid(s: Shape, o: Record<string, unknown>, at: string): void {
  s.str(o.modelA, `${at}.modelA`);
  s.str(o.modelB, `${at}.modelB`);
  if (o.failed !== undefined) {
    s.arr(o.failed, `${at}.failed`).forEach((f, i) => {
      const fo = s.obj(f, `${at}.failed[${i}]`);
      s.int(fo.layerA, `${at}.failed[${i}].layerA`);
      s.int(fo.layerB, `${at}.failed[${i}].layerB`);
      s.str(fo.error, `${at}.failed[${i}].error`);
    });
  }
  if (o.unscored !== undefined) {
    s.arr(o.unscored, `${at}.unscored`).forEach((f, i) => {
      const fo = s.obj(f, `${at}.unscored[${i}]`);
      s.int(fo.layerA, `${at}.unscored[${i}].layerA`);
      s.int(fo.layerB, `${at}.unscored[${i}].layerB`);
      s.str(fo.error, `${at}.unscored[${i}].error`);
    });
  }
  const layersA = s.arr(o.layersA, `${at}.layersA`).map((x, i) => s.int(x, `${at}.layersA[${i}]`));
  const layersB = s.arr(o.layersB, `${at}.layersB`).map((x, i) => s.int(x, `${at}.layersB[${i}]`));
  const seen = new Set<string>();
  s.arr(o.cells, `${at}.cells`).forEach((c, i) => {
    const p = `${at}.cells[${i}]`;
    const co = s.obj(c, p);
    const la = s.int(co.layerA, `${p}.layerA`);
    const lb = s.int(co.layerB, `${p}.layerB`);
    if (!layersA.includes(la)) s.fail(`${p}.layerA`, `layer ${la} is not in layersA`);
    if (!layersB.includes(lb)) s.fail(`${p}.layerB`, `layer ${lb} is not in layersB`);
    if (seen.has(`${la},${lb}`)) s.fail(p, `duplicate cell for layers (${la}, ${lb})`);
    seen.add(`${la},${lb}`);
    checkScore(s, co.svcca, `${p}.svcca`);
    checkScore(s, co.rsa, `${p}.rsa`);
    if (co.scores !== undefined) for (const [k, sc] of Object.entries(s.obj(co.scores, `${p}.scores`))) checkScore(s, sc, `${p}.scores.${k}`);
    if (co.method !== undefined && !(MAPPING_METHODS as readonly unknown[]).includes(co.method))
      s.fail(`${p}.method`, `expected one of ${MAPPING_METHODS.join(', ')}, got ${JSON.stringify(co.method)}`);
    s.str(co.artifactId, `${p}.artifactId`);
    s.optStr(co.featureMap, `${p}.featureMap`);
    if (typeof co.featureMap === 'string' && !isMapHref(co.featureMap))
      s.fail(`${p}.featureMap`, `must be a feature-map page as the sweep writes it (maps/A<layer>_B<layer>.html), got ${JSON.stringify(co.featureMap)}`);
    s.arr(co.subspaces, `${p}.subspaces`).forEach((sub, j) => {
      const so = s.obj(sub, `${p}.subspaces[${j}]`);
      s.str(so.name, `${p}.subspaces[${j}].name`);
      s.int(so.n, `${p}.subspaces[${j}].n`);
      if (so.svcca !== undefined) checkScore(s, so.svcca, `${p}.subspaces[${j}].svcca`);
      if (so.rsa !== undefined) checkScore(s, so.rsa, `${p}.subspaces[${j}].rsa`);
      if (so.skipped !== undefined) {
        const sk = s.obj(so.skipped, `${p}.subspaces[${j}].skipped`);
        s.optStr(sk.svcca, `${p}.subspaces[${j}].skipped.svcca`);
        s.optStr(sk.rsa, `${p}.subspaces[${j}].skipped.rsa`);
      }
    });
    if (co.selection !== undefined) {
      const so = s.obj(co.selection, `${p}.selection`);
      for (const [k, sc] of Object.entries(s.obj(so.scores, `${p}.selection.scores`))) checkScore(s, sc, `${p}.selection.scores.${k}`);
    }
    if (co.saeFit !== undefined) {
      const fo = s.obj(co.saeFit, `${p}.saeFit`);
      checkFit(s, fo.a, `${p}.saeFit.a`);
      checkFit(s, fo.b, `${p}.saeFit.b`);
    }
    s.arr(co.counts, `${p}.counts`).forEach((k, j) => {
      const ko = s.obj(k, `${p}.counts[${j}]`);
      s.str(ko.stage, `${p}.counts[${j}].stage`);
      s.int(ko.count, `${p}.counts[${j}].count`);
      s.optStr(ko.artifactId, `${p}.counts[${j}].artifactId`);
    });
  });
}

export function validateCategories(v: unknown, file: string): Categories {
  const s = new Shape(file);
  const o = s.obj(v, '$');
  for (const [name, kws] of Object.entries(o)) {
    s.arr(kws, `$.${name}`).forEach((k, i) => s.str(k, `$.${name}[${i}]`));
  }
  return o as Categories;
}
