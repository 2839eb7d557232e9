import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { demoConfig, parseSweepConfig, sweepIdOf } from '../pipelines/config.ts';
import { isUserInputError } from '../pipelines/errors.ts';

const FILE = '/data/sweeps/sweep.json';

function minimal(): Record<string, unknown> {
  return {
    corpus: { path: 'corpus.txt' },
    models: {
      a: { model: 'a/model.onnx', tokenizer: 'a/tokenizer.json', sae: 'saes/a', layers: [2, 0, 1] },
      b: { name: 'B', model: '/abs/b.onnx', tokenizer: '/abs/tok.json', sae: '/abs/saes-b', layers: [3] },
    },
  };
}

/** The UserInputError message parseSweepConfig throws for `json`. */
function errorOf(json: unknown): string {
  try {
    parseSweepConfig(json, FILE);
  } catch (e) {
    assert.ok(isUserInputError(e), `expected a UserInputError, got ${String(e)}`);
    return (e as Error).message;
  }
  assert.fail('expected the config to be refused');
}

test('a minimal config gets defaults, sorted layers and paths resolved against the config folder', () => {
  const c = parseSweepConfig(JSON.stringify(minimal()), FILE);
  assert.equal(c.corpus.path, '/data/sweeps/corpus.txt');
  assert.equal(c.models.a.model, '/data/sweeps/a/model.onnx');
  assert.equal(c.models.a.name, 'model.onnx');
  assert.equal(c.models.b.sae, '/abs/saes-b');
  assert.deepEqual(c.models.a.layers, [0, 1, 2]);
  assert.equal(c.models.a.preset, 'gpt-neox');
  assert.equal(c.compat, 'described');
  assert.deepEqual(c.pairing, { encode: 'pre', method: 'greedy', poolSize: 3000, epsilon: 0.05, minCorrelation: 0.1, minActivations: 5 });
  assert.equal(c.corpus.keepSpecialPositions, false, 'special positions are excluded by default');
  assert.equal('addSpecialTokens' in c.models.a, false, 'absent: the tokenizer decides, as Hugging Face');
  assert.deepEqual(c.similarity, { permutations: 1000, seed: 0, metrics: ['svcca', 'rsa', 'cka-debiased', 'knn', 'procrustes'] });
  assert.equal(c.outDir, '/data/sweeps/ufg-out');
  assert.deepEqual(c.orchestration, { concurrency: 4, pairsPerRun: 200, heartbeatTimeoutSeconds: 30 });
  assert.equal('retrieval' in c, false, 'retrieval is opt-in: absent, the config (and its sweep id) is what it was before it');
  assert.equal('stability' in c, false, 'stability is opt-in');
  const on = parseSweepConfig({ ...minimal(), retrieval: {}, stability: {} }, FILE);
  assert.deepEqual(on.retrieval, { enabled: true, trainFraction: 0.5, ridge: 0.01, shuffles: 100, seed: 0, maps: ['procrustes', 'ridge'] });
  assert.deepEqual(on.stability, { enabled: true, permutations: 1000, seed: 0 });
  assert.notEqual(sweepIdOf(on), sweepIdOf(c));
  assert.equal(c.source, FILE);
});

test('every error names the file and the JSON path of the bad field', () => {
  const cases: Array<[(j: Record<string, any>) => void, RegExp]> = [
    [(j) => (j.models.b.layers = [3, 1, -2]), /^\/data\/sweeps\/sweep\.json: models\.b\.layers\[2\]: layer must be a non-negative integer, got -2$/],
    [(j) => (j.models.b.layers = [3, 3]), /models\.b\.layers\[1\]: layer 3 is listed twice/],
    [(j) => (j.models.a.layers = []), /models\.a\.layers: must be a non-empty list/],
    [(j) => delete j.models.a.sae, /models\.a\.sae: is required/],
    [(j) => (j.models.a.preset = 'gpt5'), /models\.a\.preset: must be one of "gpt-neox", "gpt2", "llama", got "gpt5"/],
    [(j) => (j.models.a.pattern = 'layers.*.out'), /models\.a\.pattern: must contain \{layer\}/],
    [(j) => (j.corpus.maxLength = 0), /corpus\.maxLength: must be an integer in 1\.\./],
    [(j) => (j.corpus.batchsize = 8), /corpus\.batchsize: unknown field \(known here: .*batchSize/],
    [(j) => (j.pairing = { encode: 'mid' }), /pairing\.encode: must be one of "pre", "post"/],
    [(j) => (j.similarity = { permutations: 1.5 }), /similarity\.permutations: must be an integer/],
    [(j) => (j.similarity = { metrics: ['svcca', 'rsa', 'cca'] }), /^\/data\/sweeps\/sweep\.json: similarity\.metrics\[2\]: unknown metric "cca" \(known: svcca, svcca-reference, .*procrustes, mean-corr\)$/],
    [(j) => (j.similarity = { metrics: ['svcca', 'rsa', 7] }), /similarity\.metrics\[2\]: unknown metric 7/],
    [(j) => (j.similarity = { metrics: ['svcca', 'rsa', 'cka', 'rsa'] }), /similarity\.metrics\[3\]: metric "rsa" is listed twice/],
    [(j) => (j.similarity = { metrics: 'cka' }), /similarity\.metrics: must be a non-empty list of metric names/],
    [(j) => (j.similarity = { metrics: [] }), /similarity\.metrics: must be a non-empty list/],
    [(j) => (j.similarity = { null: 'shuffle' }), /similarity\.null: unknown null "shuffle" \(known: "rows", "selection"\)$/],
    [(j) => (j.similarity = { null: ['rows', 'rows'] }), /similarity\.null\[1\]: null "rows" is listed twice/],
    [(j) => (j.similarity = { null: [] }), /similarity\.null: must be "rows", "selection" or a non-empty list of them/],
    [(j) => (j.similarity = { null: 'selection', selectionShifts: 1 }), /similarity\.selectionShifts: must be an integer in 2\.\.10000, got 1/],
    [(j) => (j.similarity = { bootstrap: 5 }), /similarity\.bootstrap: must be an integer in 20\.\.100000, got 5/],
    [(j) => (j.similarity = { selectionShifts: 5 }), /similarity\.selectionShifts: is used only with "null": "selection"/],
    [(j) => (j.similarity = { metrics: ['cka', 'rsa'] }), /similarity\.metrics: must include "svcca" \(the paper's scores/],
    [(j) => (j.pairing = { method: 'sinkhorn' }), /^\/data\/sweeps\/sweep\.json: pairing\.method: must be one of "greedy", "hungarian", "ot", "decoder", got "sinkhorn"$/],
    [(j) => (j.retrieval = { maps: ['procrustes', 'lasso'] }), /^\/data\/sweeps\/sweep\.json: retrieval\.maps\[1\]: unknown map "lasso" \(known: procrustes, ridge\)$/],
    [(j) => (j.retrieval = { maps: [] }), /retrieval\.maps: must be a non-empty list of maps/],
    [(j) => (j.retrieval = { trainFraction: 1 }), /retrieval\.trainFraction: must be a number in \[0\.05, 0\.95\], got 1/],
    [(j) => (j.retrieval = { shuffles: 0 }), /retrieval\.shuffles: must be an integer in 1\.\.100000, got 0/],
    [(j) => (j.retrieval = { enabled: 'no' }), /retrieval\.enabled: must be true or false/],
    [(j) => (j.stability = { permutations: 0 }), /stability\.permutations: must be an integer in 1\.\.1000000, got 0/],
    [(j) => (j.stability = { halves: 2 }), /stability\.halves: unknown field/],
    [(j) => (j.pairing = { method: 'hungarian', poolSize: 1 }), /pairing\.poolSize: must be an integer in 2\.\.100000, got 1/],
    [(j) => (j.pairing = { method: 'ot', epsilon: 0 }), /pairing\.epsilon: must be a number in \[0\.000001, 100\], got 0/],
    [(j) => (j.pairing = { method: 'ot', pool: 10 }), /pairing\.pool: unknown field \(known here: .*poolSize/],
    [(j) => (j.orchestration = { concurrency: 0 }), /orchestration\.concurrency: must be an integer in 1\.\.1000, got 0/],
    [(j) => (j.compat = 'original'), /compat: must be one of "described", "reference"/],
    [(j) => (j.models.a.addSpecialTokens = 'yes'), /^\/data\/sweeps\/sweep\.json: models\.a\.addSpecialTokens: must be true or false, got "yes"$/],
    [(j) => (j.corpus.keepSpecialPositions = 1), /corpus\.keepSpecialPositions: must be true or false, got 1/],
    [(j) => (j.pairing = { minActivations: 0 }), /pairing\.minActivations: must be an integer in 1\.\.100, got 0/],
    [(j) => delete j.models, /^\/data\/sweeps\/sweep\.json: models: is required$/],
    [(j) => (j.models = []), /models: must be a JSON object/],
  ];
  for (const [mutate, expected] of cases) {
    const j = minimal();
    mutate(j as Record<string, any>);
    assert.match(errorOf(j), expected);
  }
  assert.match(errorOf('{"corpus": '), /^\/data\/sweeps\/sweep\.json: not valid JSON/);
});

test('similarity.null: a name or a list, normalised to rows-then-selection; selectionShifts read; absent without selection', () => {
  const parse = (similarity: unknown) => {
    const j = minimal();
    j.similarity = similarity;
    return parseSweepConfig(j, FILE).similarity;
  };
  assert.deepEqual(parse({ null: 'selection' }), { permutations: 1000, seed: 0, metrics: ['svcca', 'rsa', 'cka-debiased', 'knn', 'procrustes'], null: ['selection'], selectionShifts: 10 });
  // Without the selection null the fields are absent: the config (and its sweep id) is what it was before them.
  assert.deepEqual(parse({ null: 'rows' }), parse({}));
  assert.equal(parse({}).bootstrap, undefined);
  assert.equal(parse({ bootstrap: 200 }).bootstrap, 200);
  assert.equal(sweepIdOf(parseSweepConfig(minimal(), FILE)), sweepIdOf(parseSweepConfig({ ...minimal(), similarity: { null: ['rows'] } }, FILE)));
  assert.deepEqual(parse({ null: ['selection', 'rows'], selectionShifts: 20 }), { permutations: 1000, seed: 0, metrics: ['svcca', 'rsa', 'cka-debiased', 'knn', 'procrustes'], null: ['rows', 'selection'], selectionShifts: 20 });
});

test('metrics and one-to-one pairing are read, normalised to registry order, and part of the sweep id', () => {
  const j = minimal();
  j.pairing = { method: 'hungarian', poolSize: 500 };
  j.similarity = { metrics: ['procrustes', 'rsa', 'mean-corr', 'svcca'] };
  const c = parseSweepConfig(j, FILE);
  assert.deepEqual(c.pairing, { encode: 'pre', method: 'hungarian', poolSize: 500, epsilon: 0.05, minCorrelation: 0.1, minActivations: 5 });
  assert.deepEqual(c.similarity.metrics, ['svcca', 'rsa', 'procrustes', 'mean-corr']);
  const reordered = minimal();
  reordered.pairing = { method: 'hungarian', poolSize: 500 };
  reordered.similarity = { metrics: ['svcca', 'mean-corr', 'procrustes', 'rsa'] };
  assert.equal(sweepIdOf(parseSweepConfig(reordered, FILE)), sweepIdOf(c), 'the same metric set in another order is the same sweep');
  const fewer = structuredClone(reordered);
  (fewer.similarity as { metrics: string[] }).metrics = ['svcca', 'rsa'];
  assert.notEqual(sweepIdOf(parseSweepConfig(fewer, FILE)), sweepIdOf(c));
  assert.notEqual(sweepIdOf(parseSweepConfig({ ...reordered, pairing: { method: 'ot', poolSize: 500 } }, FILE)), sweepIdOf(c));
  assert.equal(parseSweepConfig({ ...minimal(), pairing: { method: 'ot', epsilon: 0.2 } }, FILE).pairing.epsilon, 0.2);
});

test('the sweep id is a hash of the normalised config: same sweep, same id; any change, another id', () => {
  const a = parseSweepConfig(minimal(), FILE);
  const sameElsewhere = parseSweepConfig({ ...minimal(), corpus: { path: '/data/sweeps/corpus.txt', maxLength: 128 } }, '/data/sweeps/copy.json');
  assert.match(sweepIdOf(a), /^ufg-sweep-[0-9a-f]{16}$/);
  // Defaults written out, absolute paths, another file name: still the same sweep.
  assert.equal(sweepIdOf(sameElsewhere), sweepIdOf(a));
  const reordered = minimal();
  (reordered.models as any).a.layers = [1, 2, 0];
  assert.equal(sweepIdOf(parseSweepConfig(reordered, FILE)), sweepIdOf(a));
  const other = minimal();
  (other as any).similarity = { permutations: 999 };
  assert.notEqual(sweepIdOf(parseSweepConfig(other, FILE)), sweepIdOf(a));
  assert.notEqual(sweepIdOf(parseSweepConfig(minimal(), '/elsewhere/sweep.json')), sweepIdOf(a), 'relative paths resolve elsewhere: another sweep');
});

test('demoConfig points at the generated fixtures and is a valid config', () => {
  const c = demoConfig('/fx', '/tmp/out');
  assert.equal(c.models.a.model, join('/fx', 'model-a.onnx'));
  assert.equal(c.models.b.sae, join('/fx', 'saes', 'f32', 'modelB-saelens'));
  assert.equal(c.outDir, '/tmp/out');
  assert.ok(c.models.a.layers.length * c.models.b.layers.length >= 4);
  assert.equal(sweepIdOf(c), sweepIdOf(demoConfig('/fx', '/tmp/out')));
});

test('sae: a path, or an explicit map naming one SAE per listed layer; allowSharedSae and strict are booleans', () => {
  const explicit = minimal() as { models: { a: Record<string, unknown> } };
  explicit.models.a.sae = { '0': 'saes/a/embed', '1': '/abs/l1', '2': 'saes/a/layers.1' };
  const c = parseSweepConfig(explicit, FILE);
  assert.deepEqual(c.models.a.sae, { '0': '/data/sweeps/saes/a/embed', '1': '/abs/l1', '2': '/data/sweeps/saes/a/layers.1' });
  assert.equal(c.strict, false);
  assert.equal(c.models.a.allowSharedSae, undefined);
  const withFlags = minimal() as { models: { a: Record<string, unknown> }; strict?: boolean };
  withFlags.models.a.allowSharedSae = true;
  withFlags.strict = true;
  const f = parseSweepConfig(withFlags, FILE);
  assert.equal(f.models.a.allowSharedSae, true);
  assert.equal(f.strict, true);
  const cases: Array<[(j: Record<string, any>) => void, RegExp]> = [
    [(j) => (j.models.a.sae = { '0': 'x', '1': 'y' }), /models\.a\.sae: maps no SAE for layer 2 \(an explicit map names one SAE per listed layer\)/],
    [(j) => (j.models.a.sae = { '0': 'x', '1': 'y', '2': 'z', '5': 'w' }), /models\.a\.sae\.5: unknown field/],
    [(j) => (j.models.a.sae = { '0': 'x', '1': 'y', '2': 3 }), /models\.a\.sae\.2: must be a non-empty string/],
    [(j) => (j.models.a.allowSharedSae = 'yes'), /models\.a\.allowSharedSae: must be true or false, got "yes"/],
    [(j) => (j.strict = 1), /strict: must be true or false, got 1/],
  ];
  for (const [change, pattern] of cases) {
    const j = minimal() as Record<string, any>;
    change(j);
    assert.match(errorOf(j), pattern);
  }
});

test('special-token and label fields are read and part of the sweep id', () => {
  const j = minimal() as Record<string, any>;
  j.models.a.addSpecialTokens = false;
  j.corpus.keepSpecialPositions = true;
  j.pairing = { minActivations: 3 };
  const c = parseSweepConfig(j, FILE);
  assert.equal(c.models.a.addSpecialTokens, false);
  assert.equal(c.models.b.addSpecialTokens, undefined);
  assert.equal(c.corpus.keepSpecialPositions, true);
  assert.equal(c.pairing.minActivations, 3);
  const base = sweepIdOf(parseSweepConfig(minimal(), FILE));
  for (const change of [(x: any) => (x.models.a.addSpecialTokens = true), (x: any) => (x.corpus.keepSpecialPositions = true), (x: any) => (x.pairing = { minActivations: 2 })]) {
    const other = minimal() as Record<string, any>;
    change(other);
    assert.notEqual(sweepIdOf(parseSweepConfig(other, FILE)), base);
  }
});
