// Which SAE each requested layer gets. By default the SAE trained on that very tensor: every SAE
// under the configured path is read for its hookpoint (hookpoint.ts) and the one whose trained
// tensor is the layer is chosen. A config may also map layers to SAE paths explicitly; then ufg
// uses what it is told and warns where the SAE's own hookpoint says otherwise. Under `compat:
// reference` the original code's offset is kept (it feeds hidden_states[i] to the SAE of block i,
// which was trained on hidden_states[i+1]) and every row says so.
import { relative } from 'node:path';
import { UserInputError } from '../errors.ts';
import { describeLayer, hookpointOf, type Hookpoint } from './hookpoint.ts';
import { locateAllSaes, locateSae, type LocatedSae } from './locate.ts';

/** `trained-tensor`: the SAE trained on the layer's tensor; `reference`: the original code's offset. */
export type SaeConvention = 'trained-tensor' | 'reference';

export interface LayerSaeSpec {
  /** A path (weights file, an SAE's folder, or a release folder), or layer → path. */
  sae: string | Record<string, string>;
  layers: readonly number[];
  /** One SAE file for several layers is refused unless this is set. */
  allowSharedSae?: boolean;
}

export interface LayerSae {
  layer: number;
  file: string;
  layout: LocatedSae['layout'];
  /** What the SAE's library says it was trained on; undefined when nothing on disk says. */
  hookpoint?: Hookpoint;
  /** How the SAE was chosen for the layer. */
  mappedBy: 'hookpoint' | 'config' | 'single file';
  /** Set when the SAE was (or may have been) trained on another tensor than the one it is given. */
  warning?: string;
  /** Said of every row under compat reference: the original code's offset is kept on purpose. */
  note?: string;
}

function hookText(h: Hookpoint | undefined): string {
  return h ? `${h.name} → ${describeLayer(h.trainedOn)}` : 'unknown hookpoint';
}

/** Whether an SAE with hookpoint `h` belongs to `layer` under `convention`. */
function belongs(h: Hookpoint, layer: number, convention: SaeConvention): boolean {
  return convention === 'reference' ? h.block === layer : h.trainedOn === layer;
}

function mismatch(h: Hookpoint | undefined, layer: number, convention: SaeConvention): string | undefined {
  if (!h) return `nothing on disk says which tensor this SAE was trained on; it is applied to ${describeLayer(layer)}`;
  if (convention === 'reference') {
    return h.block === layer ? undefined : `compat reference feeds hidden_states[${layer}] to the SAE of block ${layer}, but this SAE hooks ${h.name}`;
  }
  return h.trainedOn === layer ? undefined : `trained on ${describeLayer(h.trainedOn)} (${h.name}) but applied to ${describeLayer(layer)}`;
}

const REFERENCE_NOTE = (layer: number) => `compat reference: the original code's offset — ${describeLayer(layer)} is fed to the SAE of block ${layer}, trained on ${describeLayer(layer + 1)}`;

async function located(path: string): Promise<{ loc: LocatedSae; hookpoint?: Hookpoint }> {
  const loc = await locateSae(path);
  const hookpoint = await hookpointOf(loc.file);
  return hookpoint ? { loc, hookpoint } : { loc };
}

/**
 * The SAE of every layer in `spec.layers`, in order. Throws UserInputError (naming `field`'s
 * file) when a layer has no SAE, several candidates, or shares one SAE file without being asked to.
 */
export async function resolveLayerSaes(spec: LayerSaeSpec, convention: SaeConvention): Promise<LayerSae[]> {
  const out: LayerSae[] = [];
  if (typeof spec.sae === 'object') {
    for (const layer of spec.layers) {
      const path = spec.sae[String(layer)];
      if (path === undefined) throw new UserInputError(`layer ${layer} has no SAE in the explicit mapping (mapped: ${Object.keys(spec.sae).join(', ')})`);
      const { loc, hookpoint } = await located(path);
      const warning = mismatch(hookpoint, layer, convention);
      out.push({ layer, file: loc.file, layout: loc.layout, ...(hookpoint ? { hookpoint } : {}), mappedBy: 'config', ...(warning ? { warning } : {}) });
    }
  } else {
    const root = spec.sae;
    const all = await Promise.all((await locateAllSaes(root)).map(async (loc) => ({ loc, hookpoint: await hookpointOf(loc.file, root) })));
    if (all.length === 0) throw new UserInputError('holds no SAE weights file (sae.safetensors, sae_weights.safetensors, params.npz)', root);
    const single = all.length === 1 && (all[0]!.hookpoint === undefined || spec.allowSharedSae);
    for (const layer of spec.layers) {
      if (single) {
        const { loc, hookpoint } = all[0]!;
        const warning = mismatch(hookpoint, layer, convention);
        out.push({ layer, file: loc.file, layout: loc.layout, ...(hookpoint ? { hookpoint } : {}), mappedBy: 'single file', ...(warning ? { warning } : {}) });
        continue;
      }
      const hits = all.filter((s) => s.hookpoint && belongs(s.hookpoint, layer, convention));
      const list = () =>
        all
          .slice(0, 8)
          .map((s) => `${relative(root, s.loc.file) || s.loc.file}: ${hookText(s.hookpoint)}`)
          .join('; ');
      if (hits.length === 0) {
        const want = convention === 'reference' ? `of block ${layer} (compat reference)` : `trained on ${describeLayer(layer)}`;
        throw new UserInputError(`no SAE ${want}; found ${list()}${all.length > 8 ? '; …' : ''}`, root);
      }
      if (hits.length > 1) {
        throw new UserInputError(
          `${hits.length} SAEs fit layer ${layer} (${hits.map((s) => relative(root, s.loc.file)).join(', ')}); map layers to SAE files explicitly ("sae": {"${layer}": "…"})`,
          root,
        );
      }
      const { loc, hookpoint } = hits[0]!;
      out.push({ layer, file: loc.file, layout: loc.layout, hookpoint: hookpoint!, mappedBy: 'hookpoint' });
    }
  }
  if (!spec.allowSharedSae) {
    const seen = new Map<string, number>();
    for (const r of out) {
      const other = seen.get(r.file);
      if (other !== undefined) {
        throw new UserInputError(`layers ${other} and ${r.layer} would both use ${r.file}; an SAE is trained on one tensor (set "allowSharedSae": true to use one SAE for several layers)`);
      }
      seen.set(r.file, r.layer);
    }
  }
  if (convention === 'reference') for (const r of out) r.note = REFERENCE_NOTE(r.layer);
  return out;
}
