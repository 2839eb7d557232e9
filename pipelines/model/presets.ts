// Which tensor inside an exported graph is the residual stream at layer i.
//
// LAYER CONVENTION (all presets): layer i = Hugging Face `hidden_states[i]`, i.e. layer 0 = the
// embedding output (after position embeddings / embedding scaling where the model has them) and
// layer i ≥ 1 = the output of block i-1 (the residual stream after that block's last residual
// add). One difference from HF: HF's last entry hidden_states[L] has the final norm applied; ufg's
// layer L is the raw output of block L-1, as SAEs trained on block outputs (sparsify) expect.
//
// NAMING EVIDENCE. `optimum-cli export onnx` goes through torch.onnx, which names each node
// `<module path>/<Op>[_k]` (module path `gpt_neox.layers.0` → scope `/gpt_neox/layers.0`, k counting
// earlier nodes of that op in the same scope) and its output `<node name>_output_0`:
//   - GPT-2 (public split scripts over an optimum export): `/transformer/wte/Gather_output_0`,
//     `/transformer/Add_output_0` (= wte + wpe, hidden_states[0]), `/transformer/h.N/Add_output_0`
//     (after attention) and `/transformer/h.N/Add_1_output_0` (block output, fed to h.N+1).
//   - Llama / Qwen2 / Gemma (same sources): `/model/layers.N/Add_1_output_0` is the block output,
//     `/model/layers.N/Add_output_0` the mid-block residual.
//   - GPT-NeoX/Pythia (OpenVINO pattern comments over optimum exports name
//     `/gpt_neox/layers.0/attention/...` nodes): GPTNeoXLayer with use_parallel_residual computes
//     `mlp_output + attn_output + hidden_states`, i.e. `/gpt_neox/layers.N/Add` then `Add_1`.
// Because the index k can shift between transformers versions, a preset takes the LAST `Add`
// directly in the block's scope (graph order is topological, and the residual add ends the block)
// instead of hard-coding `Add_1`.
import { UserInputError } from '../errors.ts';
import type { GraphProto, NodeProto } from './loadOnnx.ts';

export type PresetName = 'gpt-neox' | 'gpt2' | 'llama';
export const PRESET_NAMES: readonly PresetName[] = ['gpt-neox', 'gpt2', 'llama'];

interface Preset {
  /** Top-level residual adds of block N; group 1 = N. An optional outer prefix is allowed. */
  blockAdd: RegExp;
  /** The token-embedding lookup. */
  embedGather: RegExp;
  /** Scope of model-level nodes that may extend the embedding (position add, Gemma's scaling). */
  rootScope: RegExp;
  description: string;
}

const PRESETS: Record<PresetName, Preset> = {
  'gpt-neox': {
    blockAdd: /^(?:.*\/)?gpt_neox\/layers\.(\d+)\/Add(?:_\d+)?$/,
    embedGather: /^(?:.*\/)?gpt_neox\/embed_in\/Gather$/,
    rootScope: /^(?:.*\/)?gpt_neox\/[A-Za-z]+(?:_\d+)?$/,
    description: 'GPT-NeoX / Pythia: /gpt_neox/embed_in, /gpt_neox/layers.N (parallel residual)',
  },
  gpt2: {
    blockAdd: /^(?:.*\/)?transformer\/h\.(\d+)\/Add(?:_\d+)?$/,
    embedGather: /^(?:.*\/)?transformer\/wte\/Gather$/,
    rootScope: /^(?:.*\/)?transformer\/[A-Za-z]+(?:_\d+)?$/,
    description: 'GPT-2: /transformer/wte + wpe, /transformer/h.N',
  },
  llama: {
    blockAdd: /^(?:.*\/)?model\/layers\.(\d+)\/Add(?:_\d+)?$/,
    embedGather: /^(?:.*\/)?model\/embed_tokens\/Gather$/,
    rootScope: /^(?:.*\/)?model\/[A-Za-z]+(?:_\d+)?$/,
    description: 'Llama / Mistral / Qwen2 / Gemma: /model/embed_tokens, /model/layers.N',
  },
};

export function isPresetName(s: string): s is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(s);
}

export function presetDescription(p: PresetName): string {
  return PRESETS[p].description;
}

export interface Tap {
  /** hidden_states index (preset) or the number substituted into a custom pattern. */
  layer: number;
  tensor: string;
}

/** Every residual tensor a preset finds: entry i is layer i (0 = embeddings). */
export function presetLayers(graph: GraphProto, preset: PresetName, file: string): Tap[] {
  const p = PRESETS[preset];
  const nodes = graph.node ?? [];
  const blockOut = new Map<number, string>();
  for (const n of nodes) {
    const m = p.blockAdd.exec(n.name ?? '');
    if (m && n.opType === 'Add' && n.output?.[0]) blockOut.set(Number(m[1]), n.output[0]); // last one wins
  }
  const gather = nodes.find((n) => n.opType === 'Gather' && p.embedGather.test(n.name ?? ''));
  if (!gather || blockOut.size === 0) {
    throw new UserInputError(
      `preset ${preset} finds no ${!gather ? 'embedding lookup' : 'transformer blocks'} (${p.description}); ` +
        'run `ufg inspect-model` to see the graph and pick another --preset or a --pattern',
      file,
    );
  }
  const numBlocks = Math.max(...blockOut.keys()) + 1;
  const taps: Tap[] = [{ layer: 0, tensor: followEmbedding(nodes, gather.output![0]!, p.rootScope) }];
  for (let b = 0; b < numBlocks; b++) {
    const t = blockOut.get(b);
    if (!t) throw new UserInputError(`preset ${preset}: block ${b} has no residual add (blocks 0..${numBlocks - 1} expected)`, file);
    taps.push({ layer: b + 1, tensor: t });
  }
  return taps;
}

/**
 * From the embedding lookup's output, walk through model-level Add/Mul nodes that are its only
 * (non-Shape) consumer: GPT-2's `wte + wpe`, Gemma's `* sqrt(d)`. Stops where the stream fans out
 * into the first block (layer norm + residual).
 */
function followEmbedding(nodes: NodeProto[], start: string, rootScope: RegExp): string {
  let tensor = start;
  for (;;) {
    const consumers = nodes.filter((n) => n.opType !== 'Shape' && (n.input ?? []).includes(tensor));
    const only = consumers.length === 1 ? consumers[0]! : undefined;
    if (!only || (only.opType !== 'Add' && only.opType !== 'Mul') || !rootScope.test(only.name ?? '') || !only.output?.[0]) return tensor;
    tensor = only.output[0];
  }
}

/** Taps for `layers` from a preset, or from a custom tensor-name pattern with `{layer}` (and `*`). */
export function resolveTaps(graph: GraphProto, spec: { preset?: PresetName; pattern?: string }, layers: readonly number[], file: string): Tap[] {
  if (layers.length === 0) throw new UserInputError('no layers requested', file);
  if (spec.pattern !== undefined) return layers.map((layer) => ({ layer, tensor: matchPattern(graph, spec.pattern!, layer, file) }));
  const preset = spec.preset ?? 'gpt-neox';
  const all = presetLayers(graph, preset, file);
  return layers.map((layer) => {
    if (!Number.isInteger(layer) || layer < 0 || layer >= all.length) {
      throw new UserInputError(
        `layer ${layer} out of range: preset ${preset} finds ${all.length - 1} blocks, so layers are 0..${all.length - 1} (0 = embeddings)`,
        file,
      );
    }
    return all[layer]!;
  });
}

function matchPattern(graph: GraphProto, pattern: string, layer: number, file: string): string {
  if (!pattern.includes('{layer}')) throw new UserInputError(`pattern "${pattern}" must contain {layer}`, file);
  const name = pattern.replaceAll('{layer}', String(layer));
  const re = new RegExp('^' + name.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  const names = new Set<string>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) if (o && re.test(o)) names.add(o);
  for (const i of graph.input ?? []) if (i.name && re.test(i.name)) names.add(i.name);
  if (names.size === 0) throw new UserInputError(`pattern "${pattern}" matches no tensor for layer ${layer} (looked for "${name}")`, file);
  if (names.size > 1) {
    const some = [...names].slice(0, 4).join(', ');
    throw new UserInputError(`pattern "${pattern}" matches ${names.size} tensors for layer ${layer} (${some}…); make it specific`, file);
  }
  return [...names][0]!;
}
