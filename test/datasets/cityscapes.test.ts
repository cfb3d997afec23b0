import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AblateError, encodeIndexedPng, type EvalSample } from '../../src/index.js';
import { cityscapesLabelMap } from '../../plugins/datasets/cityscapes.js';
import { writeCityscapesFixture } from '../data/helpers.js';
import { recordingLog } from '../support/log.js';
import { buildDataset, take } from './build.js';

const quiet = recordingLog();

test('cityscapes label map: the 19 evaluated labelIds map to train ids 0..18, everything else to 255', () => {
  const map = cityscapesLabelMap();
  assert.equal(map[7], 0); // road
  assert.equal(map[26], 13); // car
  assert.equal(map[33], 18); // bicycle
  for (const id of [0, 1, 6, 9, 10, 14, 15, 16, 18, 29, 30, 255]) assert.equal(map[id], 255, `labelId ${id}`);
  assert.equal(map[40], -1, 'not a labelId');
  const trainIds = [...map].filter((v) => v >= 0 && v < 255).sort((a, b) => a - b);
  assert.deepEqual(trainIds, Array.from({ length: 19 }, (_, i) => i));
});

test('cityscapes: leftImg8bit + gtFine labelIds read as 19 classes (resized, whole images in evaluation)', async () => {
  // Columns of labelIds: road, car, unlabeled (0), license plate (255), bicycle.
  const root = await writeCityscapesFixture([7, 26, 0, 255, 33]);
  const ds = await buildDataset({ type: 'cityscapes', root, resize: [8, 20], normalize: null }, { log: quiet });
  assert.equal(ds.numClasses, 19);
  assert.equal(ds.classNames[13], 'car');
  assert.deepEqual([...ds.partition.labeled].sort(), ['aachen/aachen_000000_000019', 'aachen/aachen_000001_000019', 'bochum/bochum_000000_000019', 'bochum/bochum_000001_000019']);
  const [b] = await take(ds.stream('labeled', { subset: 'labeled', batchSize: 2, seed: 0 }), 1);
  assert.deepEqual(b!.shape, [2, 8, 20, 3]);
  assert.deepEqual([...b!.labels!.subarray(0, 20)], [0, 0, 0, 0, 13, 13, 13, 13, 255, 255, 255, 255, 255, 255, 255, 255, 18, 18, 18, 18]);
  const evals: EvalSample[] = [];
  for await (const s of ds.evaluation()) evals.push(s);
  assert.equal(evals.length, 4);
  assert.deepEqual(evals[0]!.shape, [1, 8, 20, 3]);
  assert.equal(evals[0]!.label[4], 13);
});

test('cityscapes: a value that is no labelId is a bad label naming the file', async () => {
  const root = await writeCityscapesFixture([7, 26]);
  const dir = path.join(root, 'gtFine', 'train', 'aachen');
  const file = path.join(dir, readdirSync(dir)[0] as string);
  writeFileSync(file, encodeIndexedPng(8, 8, new Uint8Array(64).fill(40)));
  const ds = await buildDataset({ type: 'cityscapes', root, resize: null, labeled_fraction: 1 }, { log: quiet });
  const stream = ds.stream('labeled', { subset: 'labeled', batchSize: 4, seed: 0 });
  await assert.rejects(stream.next(), (e: unknown) => e instanceof AblateError && e.code === 'data.bad-label' && e.message.includes(file) && /label value 40/.test(e.message));
  await assert.rejects(buildDataset({ type: 'cityscapes', root: path.join(root, 'missing') }, { log: quiet }), (e: unknown) => e instanceof AblateError && e.code === 'data.missing-file');
});
