// N models in one sweep and the ceiling/floor controls: how the config reads them, which models a
// sweep prepares and which model pairs it compares, and that a two-model config is the sweep it was.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { demoConfig, demoThreeModelConfig, parseSweepConfig, sweepIdOf } from '../pipelines/config.ts';
import { isUserInputError } from '../pipelines/errors.ts';
import { configFieldOf, isTwoModelSweep, modelPairs, sweepModels } from '../workflows/modelPairs.ts';

const FILE = '/data/sweeps/sweep.json';
const model = (name: string, layers: number[]) => ({ model: `${name}/model.onnx`, tokenizer: 'tok.json', sae: `saes/${name}`, layers });

function three(): Record<string, any> {
  return { corpus: { path: 'corpus.txt' }, models: { pythia: model('pythia', [1, 2]), gpt2: model('gpt2', [3]), llama: model('llama', [0]) } };
}

function errorOf(json: unknown): string {
  try {
    parseSweepConfig(json, FILE);
  } catch (e) {
    assert.ok(isUserInputError(e), `expected a UserInputError, got ${String(e)}`);
    return (e as Error).message;
  }
  assert.fail('expected the config to be refused');
}

test('three models by any key: every pair compared once, in sorted key order, whatever order the file lists them', () => {
  const c = parseSweepConfig(three(), FILE);
  assert.deepEqual(Object.keys(c.models).sort(), ['gpt2', 'llama', 'pythia']);
  assert.deepEqual(modelPairs(c), [
    { a: 'gpt2', b: 'llama' },
    { a: 'gpt2', b: 'pythia' },
    { a: 'llama', b: 'pythia' },
  ]);
  assert.equal(isTwoModelSweep(c), false);
  const reordered = three();
  reordered.models = { llama: reordered.models.llama, pythia: reordered.models.pythia, gpt2: reordered.models.gpt2 };
  const r = parseSweepConfig(reordered, FILE);
  assert.equal(sweepIdOf(r), sweepIdOf(c), 'the order written in the file is not part of the sweep');
  assert.deepEqual(modelPairs(r), modelPairs(c));
});

test('a two-model config is unchanged: no new fields, the same sweep id, one model pair a–b', () => {
  const c = demoConfig('/fx', '/tmp/out');
  assert.equal('controls' in c, false);
  assert.deepEqual(Object.keys(c.models), ['a', 'b']);
  assert.ok(isTwoModelSweep(c));
  assert.deepEqual(modelPairs(c), [{ a: 'a', b: 'b' }]);
  // The normalised config's shape is what the id hashes: models stays {a, b} with the same fields.
  assert.deepEqual(Object.keys(c).sort(), ['chunkTokens', 'compat', 'corpus', 'maxMapPoints', 'models', 'orchestration', 'outDir', 'pairing', 'similarity', 'source', 'strict', 'title', 'version']);
  // Two models with other keys are an N-model sweep (their pairs are named by key).
  const other = parseSweepConfig({ corpus: { path: 'c.txt' }, models: { x: model('x', [1]), y: model('y', [1]) } }, FILE);
  assert.equal(isTwoModelSweep(other), false);
  assert.deepEqual(modelPairs(other), [{ a: 'x', b: 'y' }]);
});

test('controls: the ceiling reads its model through another SAE, the floor is its random-init copy; each is compared with its model only', () => {
  const j = three();
  j.controls = { ceiling: { model: 'pythia', sae: 'saes/pythia-seed2' }, floor: { model: 'pythia', randomInit: { seed: 7 } } };
  const c = parseSweepConfig(j, FILE);
  assert.deepEqual(c.controls, { ceiling: { model: 'pythia', sae: '/data/sweeps/saes/pythia-seed2' }, floor: { model: 'pythia', randomInit: { seed: 7 } } });
  const models = sweepModels(c);
  assert.deepEqual(models.map((m) => m.key), ['gpt2', 'llama', 'pythia', 'pythia~ceiling', 'pythia~floor']);
  const ceiling = models.find((m) => m.control === 'ceiling')!;
  assert.equal(ceiling.config.sae, '/data/sweeps/saes/pythia-seed2');
  assert.equal(ceiling.config.model, c.models.pythia!.model, 'the same model file');
  assert.deepEqual(ceiling.config.layers, [1, 2]);
  const floor = models.find((m) => m.control === 'floor')!;
  assert.equal(floor.config.sae, c.models.pythia!.sae, "the floor reads the model's own SAEs");
  assert.equal(floor.randomInitSeed, 7);
  assert.deepEqual(modelPairs(c).slice(3), [
    { a: 'pythia', b: 'pythia~ceiling', control: 'ceiling' },
    { a: 'pythia', b: 'pythia~floor', control: 'floor' },
  ]);
  assert.equal(configFieldOf('pythia~floor'), 'controls.floor');
  assert.equal(configFieldOf('gpt2'), 'models.gpt2');
  assert.notEqual(sweepIdOf(c), sweepIdOf(parseSweepConfig(three(), FILE)), 'controls are part of the sweep');
  // Controls on a two-model config make it an N-model sweep.
  assert.equal(isTwoModelSweep(parseSweepConfig({ ...demoConfigJson(), controls: { floor: { model: 'a', randomInit: { seed: 0 } } } }, FILE)), false);
});

function demoConfigJson(): Record<string, any> {
  return { corpus: { path: 'c.txt' }, models: { a: model('a', [1]), b: model('b', [1]) } };
}

test('bad models and controls are refused naming the field', () => {
  const cases: Array<[(j: Record<string, any>) => void, RegExp]> = [
    [(j) => (j.models = { a: model('a', [1]) }), /^\/data\/sweeps\/sweep\.json: models: needs at least two models \(got only "a"\)/],
    [(j) => (j.models = {}), /models: needs at least two models \(got none\)/],
    [(j) => (j.models['a~b'] = model('x', [1])), /models\.a~b: a model key must be 1–32 letters, digits, "_" or "-"/],
    [(j) => (j.models.gpt2.layers = [-1]), /models\.gpt2\.layers\[0\]: layer must be a non-negative integer/],
    [(j) => (j.controls = {}), /controls: names neither "ceiling" nor "floor"/],
    [(j) => (j.controls = { ceiling: { model: 'bert', sae: 's' } }), /controls\.ceiling\.model: names no model of this sweep \(models: pythia, gpt2, llama\)/],
    [(j) => (j.controls = { ceiling: { model: 'gpt2' } }), /controls\.ceiling\.sae: is required/],
    [(j) => (j.controls = { ceiling: { model: 'gpt2', sae: 'saes/gpt2' } }), /controls\.ceiling\.sae: is models\.gpt2's own SAE/],
    [(j) => (j.controls = { floor: { model: 'gpt2' } }), /controls\.floor\.randomInit: is required/],
    [(j) => (j.controls = { floor: { model: 'gpt2', randomInit: { seed: -1 } } }), /controls\.floor\.randomInit\.seed: must be an integer in 0\.\.2147483647, got -1/],
    [(j) => (j.controls = { floor: { model: 'gpt2', randomInit: {}, seed: 1 } }), /controls\.floor\.seed: unknown field/],
    [(j) => (j.controls = { middle: {} }), /controls\.middle: unknown field/],
  ];
  for (const [mutate, expected] of cases) {
    const j = three();
    mutate(j);
    assert.match(errorOf(j), expected);
  }
});

test('the three-model demo config (README) is valid: three models, five model pairs with both controls', () => {
  const c = demoThreeModelConfig('/fx', '/tmp/out3');
  assert.deepEqual(Object.keys(c.models), ['a', 'b', 'c']);
  assert.deepEqual(modelPairs(c).map((p) => `${p.a}-${p.b}${p.control ? ` (${p.control})` : ''}`), ['a-b', 'a-c', 'b-c', 'a-a~ceiling (ceiling)', 'a-a~floor (floor)']);
});
