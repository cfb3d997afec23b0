/** safetensors I/O, layout permutations and the state-dict loader's report. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, weights, nn, AblateError } from '../../src/index.js';
import { selectBackend } from '../../src/runtime/index.js';

await selectBackend({ backend: 'cpu', log: () => {} });

const tmp = () => mkdtempSync(path.join(os.tmpdir(), 'ablate-weights-'));

test('serialize → parse round-trips names, shapes, dtypes, values and metadata', () => {
  const tensors = new Map<string, weights.TensorToWrite>([
    ['a.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6e-8]) }],
    ['b.count', { shape: [], data: Int32Array.from([7]) }],
  ]);
  const bytes = weights.serializeSafetensors(tensors, { note: 'x' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLen) % 8, 0, 'data section is 8-byte aligned');
  const back = weights.parseSafetensors(bytes);
  assert.deepEqual([...back.tensors.keys()], ['a.weight', 'b.count']);
  assert.deepEqual(back.tensors.get('a.weight')!.shape, [2, 3]);
  assert.deepEqual([...back.tensors.get('a.weight')!.data], [...tensors.get('a.weight')!.data]);
  assert.equal(back.tensors.get('b.count')!.dtype, 'I32');
  assert.equal(back.tensors.get('b.count')!.data[0], 7);
  assert.deepEqual(back.metadata, { note: 'x' });
});

test('bool tensors (checkpoints) round-trip as U8, and a write is atomic', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'ck.safetensors');
    const mask = tf.tensor([1, 0, 1], [3], 'bool');
    weights.writeSafetensors(file, new Map([['m', { shape: [3], data: Uint8Array.from(mask.dataSync()) }]]));
    const back = weights.readSafetensors(file).tensors.get('m')!;
    assert.equal(back.dtype, 'U8');
    const restored = tf.tensor(back.data, back.shape, 'bool');
    assert.equal(restored.dtype, 'bool');
    assert.deepEqual([...restored.dataSync()], [1, 0, 1]);
    tf.dispose([mask, restored]);
    assert.deepEqual(readdirSync(dir), ['ck.safetensors'], 'no temporary file is left behind');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('F16, BF16, F64 and I64 tensors decode to numbers', () => {
  // Hand-built file: F16 [1.0, -2.0], BF16 [0.5], F64 [3.25], I64 [-5].
  const data = new Uint8Array(4 + 2 + 8 + 8);
  const dv = new DataView(data.buffer);
  dv.setUint16(0, 0x3c00, true);
  dv.setUint16(2, 0xc000, true);
  dv.setUint16(4, 0x3f00, true);
  dv.setFloat64(6, 3.25, true);
  dv.setBigInt64(14, -5n, true);
  const header = JSON.stringify({
    h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] },
    b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] },
    d: { dtype: 'F64', shape: [1], data_offsets: [6, 14] },
    i: { dtype: 'I64', shape: [1], data_offsets: [14, 22] },
  });
  const hb = new TextEncoder().encode(header);
  const buf = new Uint8Array(8 + hb.length + data.length);
  new DataView(buf.buffer).setBigUint64(0, BigInt(hb.length), true);
  buf.set(hb, 8);
  buf.set(data, 8 + hb.length);
  const f = weights.parseSafetensors(buf);
  assert.deepEqual([...f.tensors.get('h')!.data], [1, -2]);
  assert.deepEqual([...f.tensors.get('b')!.data], [0.5]);
  assert.deepEqual([...f.tensors.get('d')!.data], [3.25]);
  assert.deepEqual([...f.tensors.get('i')!.data], [-5]);
});

test('broken files give located AblateErrors', () => {
  const dir = tmp();
  try {
    const file = path.join(dir, 'bad.safetensors');
    writeFileSync(file, Buffer.from([1, 2, 3]));
    assert.throws(() => weights.readSafetensors(file), (e: unknown) => e instanceof AblateError && e.code === 'weights.bad-file' && e.message.includes(file));
    const lying = new Uint8Array(16);
    new DataView(lying.buffer).setBigUint64(0, 1000n, true);
    writeFileSync(file, lying);
    assert.throws(() => weights.readSafetensors(file), /header length 1000 exceeds/);
    assert.throws(() => weights.readSafetensors(path.join(dir, 'none.safetensors')), (e: unknown) => e instanceof AblateError && e.code === 'weights.missing-file');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OIHW ↔ HWIO permutation is exact and invertible', () => {
  const shape = [4, 3, 2, 5]; // O I H W
  const data = Float32Array.from({ length: 120 }, (_, i) => i);
  const hwio = weights.torchToTfjs({ shape, data });
  assert.deepEqual(hwio.shape, [2, 5, 3, 4]);
  // element (o=3, i=1, h=1, w=4) in torch = index ((3·3+1)·2+1)·5+4
  const torchIdx = ((3 * 3 + 1) * 2 + 1) * 5 + 4;
  const tfIdx = ((1 * 5 + 4) * 3 + 1) * 4 + 3;
  assert.equal(hwio.data[tfIdx], torchIdx);
  const back = weights.tfjsToTorch(hwio);
  assert.deepEqual(back.shape, shape);
  assert.deepEqual([...back.data], [...data]);
  // it agrees with tf.transpose
  const t = tf.transpose(tf.tensor(data, shape), [2, 3, 1, 0]);
  assert.deepEqual([...t.dataSync()], [...hwio.data]);
  t.dispose();
});

test('loader copies matching tensors and reports missing, unexpected, mismatched and ignored by name', () => {
  const store = new nn.ParamStore('loadtest', 1);
  store.add('conv.weight', tf.zeros([3, 3, 2, 4]), { trainable: true });
  store.add('conv.bias', tf.zeros([4]), { trainable: true });
  store.add('bn.running_mean', tf.zeros([4]), { trainable: false });
  store.add('head.weight', tf.zeros([1, 1, 4, 2]), { trainable: true });
  try {
    const w = Float32Array.from({ length: 72 }, (_, i) => i / 10);
    const source = new Map<string, weights.RawTensor>([
      ['Scale.conv.weight', { dtype: 'F32', shape: [4, 2, 3, 3], data: w }],
      ['Scale.conv.bias', { dtype: 'F32', shape: [4], data: Float32Array.from([1, 2, 3, 4]) }],
      ['Scale.head.weight', { dtype: 'F32', shape: [21, 4, 1, 1], data: new Float32Array(84) }],
      ['Scale.extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) }],
      ['Scale.bn.num_batches_tracked', { dtype: 'I64', shape: [], data: Int32Array.from([3]) }],
    ]);
    const r = weights.loadStateDict(store.stateDict(), source, { stripPrefix: 'Scale.' });
    assert.deepEqual(r.loaded, ['conv.weight', 'conv.bias']);
    assert.deepEqual(r.missing, ['bn.running_mean'], 'shape-mismatched names are reported once, under mismatched');
    assert.deepEqual(r.unexpected, ['Scale.extra.weight']);
    assert.deepEqual(r.mismatched, [{ name: 'head.weight', expected: [2, 4, 1, 1], got: [21, 4, 1, 1] }]);
    assert.deepEqual(r.ignored, ['Scale.bn.num_batches_tracked']);
    const sd = store.stateDict();
    assert.deepEqual([...sd.get('conv.bias')!.dataSync()], [1, 2, 3, 4]);
    assert.deepEqual([...sd.get('conv.weight')!.dataSync()], [...weights.torchToTfjs({ shape: [4, 2, 3, 3], data: w }).data]);
    const text = weights.formatLoadReport(r, 'x.safetensors');
    assert.match(text, /loaded 2 tensors/);
    assert.match(text, /head\.weight file \[21, 4, 1, 1\] vs model \[2, 4, 1, 1\]/);
    assert.throws(() => weights.assertSomethingLoaded({ ...r, loaded: [] }, 'x.safetensors', 'model.pretrained'), (e: unknown) => e instanceof AblateError && e.code === 'weights.nothing-loaded');
  } finally {
    store.dispose();
  }
});

test('save → load restores every tensor of a network in PyTorch layout', () => {
  const dir = tmp();
  const a = new nn.ParamStore('saveA', 1);
  const b = new nn.ParamStore('saveB', 2);
  try {
    for (const s of [a, b]) {
      s.add('c.weight', nn.normal([3, 3, 2, 5], 1, s.nextSeed()), { trainable: true });
      s.add('c.bias', nn.normal([5], 1, s.nextSeed()), { trainable: true });
    }
    const file = path.join(dir, 'w.safetensors');
    weights.saveSafetensors(file, a.stateDict());
    const onDisk = weights.readSafetensors(file);
    assert.deepEqual(onDisk.tensors.get('c.weight')!.shape, [5, 2, 3, 3], 'written in OIHW');
    const r = weights.loadSafetensorsInto(b.stateDict(), file);
    assert.equal(r.loaded.length, 2);
    for (const name of ['c.weight', 'c.bias']) assert.deepEqual([...b.stateDict().get(name)!.dataSync()], [...a.stateDict().get(name)!.dataSync()]);
  } finally {
    a.dispose();
    b.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});
