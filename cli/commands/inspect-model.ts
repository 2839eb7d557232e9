// `ufg inspect-model model.onnx [--preset P | --pattern '/x/layers.{layer}/Add_1_output_0']`:
// the graph's inputs and outputs, and the residual tensor each layer maps to (every preset that
// fits, or the one asked for), so users can check a tap before launching a sweep.
import { parseOptions } from '../args.ts';
import { UserInputError, isUserInputError } from '../../pipelines/errors.ts';
import { describeIo, loadOnnxModel, type IoDesc } from '../../pipelines/model/loadOnnx.ts';
import { isPresetName, presetDescription, presetLayers, PRESET_NAMES, resolveTaps } from '../../pipelines/model/presets.ts';

export const help = 'usage: ufg inspect-model MODEL.onnx [--preset gpt-neox|gpt2|llama] [--pattern P --layers 0,1,2]';

export const summary = 'list a model ONNX file\'s inputs, outputs and the residual tensor each layer preset taps';

const io = (d: IoDesc) => `  ${d.name}  ${d.dtype}[${d.dims.join(', ')}]`;

export async function run(args: string[]): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { preset: { type: 'string' }, pattern: { type: 'string' }, layers: { type: 'string' } },
    true,
  );
  if (positionals.length !== 1) throw new UserInputError(help);
  const model = await loadOnnxModel(positionals[0]!);
  const graph = model.proto.graph!;
  const lines = [`model ${model.path} (${graph.node!.length} nodes, opset ${model.proto.opsetImport?.map((o) => o.version).join('/')})`, 'inputs:'];
  lines.push(...describeIo(graph.input).filter((i) => !(graph.initializer ?? []).some((t) => t.name === i.name)).map(io), 'outputs:', ...describeIo(graph.output).map(io));

  if (values.pattern !== undefined) {
    const layers = (values.layers ?? '').split(',').filter(Boolean).map(Number);
    if (layers.length === 0 || layers.some((l) => !Number.isInteger(l) || l < 0)) throw new UserInputError('--pattern needs --layers, e.g. --layers 0,1,2');
    lines.push(`pattern ${values.pattern}:`, ...resolveTaps(graph, { pattern: values.pattern }, layers, model.path).map((t) => `  layer ${t.layer}: ${t.tensor}`));
  } else {
    if (values.preset !== undefined && !isPresetName(values.preset)) {
      throw new UserInputError(`unknown preset '${values.preset}' (presets: ${PRESET_NAMES.join(', ')})`);
    }
    const presets = values.preset ? [values.preset] : PRESET_NAMES;
    let found = 0;
    for (const p of presets) {
      try {
        const taps = presetLayers(graph, p, model.path);
        found++;
        lines.push(`preset ${p} (${presetDescription(p)}): ${taps.length - 1} blocks; layer i = hidden_states[i] (0 = embeddings, i = output of block i-1)`);
        lines.push(...taps.map((t) => `  layer ${t.layer}: ${t.tensor}`));
      } catch (e) {
        if (!isUserInputError(e) || values.preset) throw e;
      }
    }
    if (found === 0) lines.push('no preset matches this graph; use --pattern with {layer} (see the tensor names with a graph viewer such as Netron)');
  }
  console.log(lines.join('\n'));
  return 0;
}
