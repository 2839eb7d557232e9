// The floor control's model: a random-init copy of an ONNX model keeps its graph and every
// non-float tensor, re-draws every float initializer with the tensor's own mean and sd (seeded:
// the same seed, the same bytes), and still runs.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { isUserInputError } from '../pipelines/errors.ts';
import { decodeOnnx, onnx } from '../pipelines/model/loadOnnx.ts';
import { randomInitModel } from '../pipelines/model/randomInit.ts';
import { ensureFixtures } from './fixtures/generate.ts';

type Tensor = NonNullable<NonNullable<ReturnType<typeof decodeOnnx>['graph']>['initializer']>[number];
const floats = (t: Tensor) => (t.rawData && t.rawData.length > 0 ? new Float32Array(new Uint8Array(t.rawData).buffer) : Float32Array.from(t.floatData ?? []));

function moments(x: Float32Array): { mean: number; sd: number } {
  let s = 0;
  for (const v of x) s += v;
  const mean = s / x.length;
  let q = 0;
  for (const v of x) q += (v - mean) ** 2;
  return { mean, sd: Math.sqrt(q / x.length) };
}

function correlation(x: Float32Array, y: Float32Array): number {
  const a = moments(x), b = moments(y);
  let c = 0;
  for (let i = 0; i < x.length; i++) c += (x[i]! - a.mean) * (y[i]! - b.mean);
  return c / x.length / (a.sd * b.sd);
}

test('every float initializer is re-drawn with its shape, mean and sd; the rest of the model is untouched; the seed fixes the copy', async () => {
  const { modelA } = await ensureFixtures();
  const bytes = await readFile(modelA);
  const copy = await randomInitModel(bytes, modelA, 3);
  const again = await randomInitModel(bytes, modelA, 3);
  const other = await randomInitModel(bytes, modelA, 4);
  assert.deepEqual(again.bytes, copy.bytes, 'the same seed gives the same copy');
  assert.notDeepEqual(other.bytes, copy.bytes, 'another seed gives another copy');

  const before = decodeOnnx(bytes, modelA).graph!;
  const after = decodeOnnx(copy.bytes, 'copy').graph!;
  assert.deepEqual(after.node!.map((n) => [n.opType, n.input, n.output]), before.node!.map((n) => [n.opType, n.input, n.output]), 'the graph is kept');
  const byName = new Map(after.initializer!.map((t) => [t.name, t]));
  let redrawn = 0, constant = 0;
  for (const t0 of before.initializer!) {
    const t1 = byName.get(t0.name)!;
    assert.deepEqual((t1.dims ?? []).map(Number), (t0.dims ?? []).map(Number), `${t0.name}: same shape`);
    assert.equal(t1.dataType, t0.dataType);
    if (t0.dataType !== onnx.TensorProto.DataType.FLOAT) {
      assert.deepEqual(t1, t0, `${t0.name}: non-float tensors are kept as they are`);
      continue;
    }
    const x = floats(t0), y = floats(t1);
    const m0 = moments(x), m1 = moments(y);
    if (m0.sd === 0) {
      assert.deepEqual(y, x, `${t0.name}: a constant tensor (sd 0) comes back unchanged`);
      constant++;
      continue;
    }
    redrawn++;
    if (x.length < 256) continue;
    // Sampling error of a normal draw of n values: mean ± sd/√n, sd ± sd/√(2n); 6 of those is far out.
    const n = x.length;
    assert.ok(Math.abs(m1.mean - m0.mean) < (6 * m0.sd) / Math.sqrt(n), `${t0.name}: mean ${m1.mean} vs ${m0.mean}`);
    assert.ok(Math.abs(m1.sd / m0.sd - 1) < 6 / Math.sqrt(2 * n), `${t0.name}: sd ${m1.sd} vs ${m0.sd}`);
    assert.ok(Math.abs(correlation(x, y)) < 6 / Math.sqrt(n), `${t0.name}: the new values are unrelated to the trained ones`);
  }
  assert.ok(redrawn >= 10, `the weight matrices are re-drawn (${redrawn})`);
  assert.ok(constant >= 1, 'LayerNorm gains and scalars (sd 0) are among the float tensors');
  assert.equal(copy.tensors, redrawn + constant);

  // The copy is a working model of the same shape, whose logits are not the trained model's.
  const run = async (b: Uint8Array) => {
    const s = await ort.InferenceSession.create(b);
    const ids = new ort.Tensor('int64', BigInt64Array.from([5n, 17n, 42n, 99n, 3n, 250n]), [1, 6]);
    const mask = new ort.Tensor('int64', new BigInt64Array(6).fill(1n), [1, 6]);
    return (await s.run({ input_ids: ids, attention_mask: mask })).logits!.data as Float32Array;
  };
  const [l0, l1] = [await run(bytes), await run(copy.bytes)];
  assert.equal(l1.length, l0.length);
  assert.ok(l1.every(Number.isFinite));
  assert.ok(Math.abs(correlation(l0, l1)) < 0.5, 'the random-init logits are not the trained logits');
});

test('a model with 16-bit float weights is refused, naming the tensor', async () => {
  const { modelA } = await ensureFixtures();
  const proto = decodeOnnx(await readFile(modelA), modelA);
  const t = proto.graph!.initializer!.find((x) => x.dataType === onnx.TensorProto.DataType.FLOAT && (x.dims ?? []).length === 2)!;
  t.dataType = onnx.TensorProto.DataType.FLOAT16;
  const half = onnx.ModelProto.encode(proto).finish();
  await assert.rejects(randomInitModel(half, '/m/model.onnx', 0), (e: unknown) => {
    assert.ok(isUserInputError(e));
    assert.match((e as Error).message, new RegExp(`^/m/model\\.onnx: controls\\.floor: initializer ${t.name} is float16; the random-init copy re-draws float32 weights only`));
    return true;
  });
});
