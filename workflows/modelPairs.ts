// Which models a sweep prepares and which model pairs it compares, from its config alone (pure, so
// the sweep workflow, the plan and the validate activity all read the same list).
//
// Models are taken in sorted key order, so the order written in sweep.json changes neither the
// sweep id (the config is hashed in canonical, sorted form) nor which side of a pair a model is.
// Every two user models form a pair. Controls add a model each, keyed `<model>~ceiling` /
// `<model>~floor` (`~` is not allowed in user keys), compared only with the model they are made from.
import type { SweepConfig, SweepModelConfig } from '../pipelines/config.ts';

export type ControlKind = 'ceiling' | 'floor';

export interface SweepModel {
  key: string;
  /** For the floor, `model` is the source model's file: the workflow swaps in its random-init copy. */
  config: SweepModelConfig;
  control?: ControlKind;
  /** A control's source model key. */
  of?: string;
  /** The floor's random-init seed. */
  randomInitSeed?: number;
}

export interface ModelPair {
  a: string;
  b: string;
  /** Set on a control's pair (source model, control model). */
  control?: ControlKind;
}

export const controlKey = (model: string, kind: ControlKind) => `${model}~${kind}`;

/** The config field a model key comes from (`models.a`, or `controls.ceiling` for `a~ceiling`), for errors. */
export function configFieldOf(key: string): string {
  const kind = key.split('~')[1];
  return kind ? `controls.${kind}` : `models.${key}`;
}

/** A two-model sweep as configs always were: keys `a` and `b`, no controls. It runs exactly as before N models. */
export function isTwoModelSweep(config: Pick<SweepConfig, 'models' | 'controls'>): boolean {
  const keys = Object.keys(config.models).sort();
  return keys.length === 2 && keys[0] === 'a' && keys[1] === 'b' && config.controls === undefined;
}

export function sweepModels(config: Pick<SweepConfig, 'models' | 'controls'>): SweepModel[] {
  const keys = Object.keys(config.models).sort();
  const out: SweepModel[] = keys.map((key) => ({ key, config: config.models[key]! }));
  const c = config.controls;
  if (c?.ceiling) {
    const src = config.models[c.ceiling.model]!;
    const { allowSharedSae: _shared, ...rest } = src;
    out.push({
      key: controlKey(c.ceiling.model, 'ceiling'),
      config: { ...rest, name: `${src.name} · other SAE (ceiling)`, sae: c.ceiling.sae, ...(c.ceiling.allowSharedSae ? { allowSharedSae: true } : {}) },
      control: 'ceiling',
      of: c.ceiling.model,
    });
  }
  if (c?.floor) {
    const src = config.models[c.floor.model]!;
    out.push({
      key: controlKey(c.floor.model, 'floor'),
      config: { ...src, name: `${src.name} · random init (floor)` },
      control: 'floor',
      of: c.floor.model,
      randomInitSeed: c.floor.randomInit.seed,
    });
  }
  return out;
}

export function modelPairs(config: Pick<SweepConfig, 'models' | 'controls'>): ModelPair[] {
  const models = sweepModels(config);
  const user = models.filter((m) => !m.control);
  const out: ModelPair[] = [];
  user.forEach((x, i) => user.slice(i + 1).forEach((y) => out.push({ a: x.key, b: y.key })));
  for (const m of models) if (m.control) out.push({ a: m.of!, b: m.key, control: m.control });
  return out;
}
