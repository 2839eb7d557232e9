// Which residual tensor an SAE was trained on, read from what its library wrote: SAELens names
// its hook in cfg.json (`hook_name`, under `metadata` in newer versions, `hook_point` in old
// ones); EleutherAI sparsify names each checkpoint folder after the hooked module (`layers.N` for
// GPT-NeoX / Llama, `h.N` for GPT-2, with a module prefix such as `gpt_neox.` in some versions);
// Gemma Scope releases put each SAE under `layer_N/…`. In ufg numbering (layer i = Hugging Face
// hidden_states[i]: 0 = embeddings, i = output of block i-1):
//   sparsify `layers.N` / `h.N`, SAELens `blocks.N.hook_resid_post`, Gemma Scope `layer_N`
//       hook the output of block N  = ufg layer N + 1
//   SAELens `blocks.N.hook_resid_pre` = the input of block N = ufg layer N
// Pairing the wrong tensor with an SAE gives plausible-looking, meaningless numbers, so every
// mapping goes through here and is shown before anything runs (pipelines/sae/layerSaes.ts).
import { readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { UserInputError } from '../errors.ts';

/** resid_post: the output of block N; resid_pre: its input (= the output of block N-1). */
export type HookSite = 'resid_post' | 'resid_pre';

export interface Hookpoint {
  /** The name as the library wrote it (`gpt_neox.layers.3`, `blocks.3.hook_resid_post`, `layer_3`). */
  name: string;
  /** Where ufg read the name. */
  from: 'cfg.json hook_name' | 'cfg.json metadata.hook_name' | 'cfg.json hook_point' | 'folder name';
  block: number;
  site: HookSite;
  /** The ufg layer (hidden_states index) of the tensor the SAE was trained on. */
  trainedOn: number;
}

/** hidden_states[i] in words, for tables and errors. */
export function describeLayer(layer: number): string {
  return layer === 0 ? 'hidden_states[0] (embeddings)' : `hidden_states[${layer}] (output of block ${layer - 1})`;
}

function hookpoint(name: string, from: Hookpoint['from'], block: number, site: HookSite): Hookpoint {
  return { name, from, block, site, trainedOn: site === 'resid_post' ? block + 1 : block };
}

const SAELENS_RESID = /^blocks\.(\d+)\.hook_resid_(pre|post)$/;
const SAELENS_OTHER = /^blocks\.\d+\./;
// A module path ending in a block: `layers.3`, `gpt_neox.layers.3`, `model.layers.3`, `h.3`, `transformer.h.3`.
const SPARSIFY_BLOCK = /^(?:[A-Za-z_][\w]*\.)*(?:layers|h)\.(\d+)$/;
// A sub-module of a block (`layers.3.mlp`, `h.3.attn`): not the residual stream.
const SPARSIFY_SUBMODULE = /^(?:[A-Za-z_][\w]*\.)*(?:layers|h)\.\d+\.[\w.]+$/;
const GEMMA_SCOPE_LAYER = /^layer_(\d+)$/;

/** A SAELens hook name; throws for a hook that is not the residual stream. */
export function parseSaeLensHook(name: string, from: Hookpoint['from'], file: string): Hookpoint {
  const m = SAELENS_RESID.exec(name);
  if (m) return hookpoint(name, from, Number(m[1]), m[2] === 'pre' ? 'resid_pre' : 'resid_post');
  const what = SAELENS_OTHER.test(name) ? 'not a residual-stream hook (ufg taps hook_resid_pre / hook_resid_post)' : 'not a hook name ufg knows (blocks.N.hook_resid_pre / hook_resid_post)';
  throw new UserInputError(`the SAE was trained on ${JSON.stringify(name)}: ${what}`, file);
}

/** A folder name that names a residual hookpoint, or undefined (also for sub-module folders). */
export function parseHookFolder(name: string): Hookpoint | undefined {
  let m = SAELENS_RESID.exec(name);
  if (m) return hookpoint(name, 'folder name', Number(m[1]), m[2] === 'pre' ? 'resid_pre' : 'resid_post');
  m = SPARSIFY_BLOCK.exec(name);
  if (m) return hookpoint(name, 'folder name', Number(m[1]), 'resid_post');
  m = GEMMA_SCOPE_LAYER.exec(name);
  if (m) return hookpoint(name, 'folder name', Number(m[1]), 'resid_post');
  return undefined;
}

/** Folder names that name a hook inside a block but not the residual stream (sparsify transcoders, MLP hooks). */
export function namesNonResidualHook(name: string): boolean {
  return SPARSIFY_SUBMODULE.test(name) || (SAELENS_OTHER.test(name) && !SAELENS_RESID.test(name));
}

async function cfgHook(cfgFile: string): Promise<{ name: string; from: Hookpoint['from'] } | undefined> {
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as Record<string, unknown>;
  } catch {
    return undefined; // no cfg.json, or not JSON: loadSae names that problem when it matters
  }
  if (typeof cfg !== 'object' || cfg === null) return undefined;
  const meta = cfg.metadata as Record<string, unknown> | undefined;
  if (typeof cfg.hook_name === 'string') return { name: cfg.hook_name, from: 'cfg.json hook_name' };
  if (meta && typeof meta === 'object' && typeof meta.hook_name === 'string') return { name: meta.hook_name, from: 'cfg.json metadata.hook_name' };
  if (typeof cfg.hook_point === 'string') return { name: cfg.hook_point, from: 'cfg.json hook_point' };
  return undefined;
}

/**
 * The hookpoint of the SAE in `weightsFile`: its cfg.json's hook name where it names one, else the
 * nearest folder on its path (below `root`, if given) that names a hookpoint; undefined when
 * nothing says. Throws when the SAE was trained on a hook that is not the residual stream.
 */
export async function hookpointOf(weightsFile: string, root?: string): Promise<Hookpoint | undefined> {
  const dir = dirname(weightsFile);
  const cfgFile = join(dir, 'cfg.json');
  const hook = await cfgHook(cfgFile);
  if (hook) return parseSaeLensHook(hook.name, hook.from, cfgFile);
  // Walk up from the file's folder (Gemma Scope nests the SAE in layer_N/width_…/average_l0_…/),
  // no higher than the folder the user named.
  const chain = ancestors(dir, root, 4);
  for (const name of chain) {
    if (namesNonResidualHook(name)) {
      throw new UserInputError(`the SAE's folder ${JSON.stringify(name)} names a hook inside a block, not the residual stream (ufg taps block outputs)`, weightsFile);
    }
    const h = parseHookFolder(name);
    if (h) return h;
  }
  return undefined;
}

/** Folder names from `dir` upwards, nearest first: at most `n`, and none above `root`. */
function ancestors(dir: string, root: string | undefined, n: number): string[] {
  const out: string[] = [];
  const inside = root !== undefined && !relative(root, dir).startsWith('..');
  let d = dir;
  while (out.length < n) {
    const name = basename(d);
    if (!name) break;
    out.push(name);
    const up = dirname(d);
    if (up === d || (inside && relative(root!, d) === '')) break;
    d = up;
  }
  return out;
}
