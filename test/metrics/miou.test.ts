import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import sharp from 'sharp';
import type { Metric, SegmentationDataset } from '../../src/index.js';
import { create, fixture } from '../trainers/support.js';

interface MiouFixture {
  num_classes: number;
  images: { gt: number[]; pred: number[] }[];
  confusion: number[][];
  miou: number;
  pixel_acc: number;
}

const fx = fixture<MiouFixture>('miou.json');

test('miou matches the reference evaluate script (mean over classes with TP ≠ 0) and writes the confusion matrix', async () => {
  const metric = (await create('metric', 'miou', { num_classes: fx.num_classes, ignore_index: 255 })) as Metric;
  for (const im of fx.images) metric.update(Uint8Array.from(im.pred), Uint8Array.from(im.gt));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ablate-miou-'));
  try {
    const r = await metric.compute({ artifactDir: dir, classNames: ['bg', 'a', 'b', 'c', 'd'] });
    assert.ok(Math.abs(r.scalars.miou! - fx.miou) < 1e-12, `miou ${r.scalars.miou} vs ${fx.miou}`);
    assert.ok(Math.abs(r.scalars.pixel_acc! - fx.pixel_acc) < 1e-12);
    assert.equal(r.scalars['iou/d'], 0, 'class d has no true positive: IoU 0, excluded from the mean');
    const csv = readFileSync(path.join(dir, 'confusion_matrix.csv'), 'utf8').trim().split('\n');
    assert.equal(csv[0], 'truth\\predicted,bg,a,b,c,d');
    assert.deepEqual(csv.slice(1).map((line) => line.split(',').slice(1).map(Number)), fx.confusion);
    assert.deepEqual(r.artifacts?.map((f) => path.basename(f)), ['confusion_matrix.csv', 'per_class_iou.csv', 'per_class_iou.md', 'per_class_iou.json', 'confusion_matrix.png']);
    // The per-class table: JSON for programs, Markdown (worst class first) for people.
    const json = JSON.parse(readFileSync(path.join(dir, 'per_class_iou.json'), 'utf8')) as { miou: number; classes: { class: string; iou: number | null; true_pixels: number }[] };
    assert.equal(json.miou, r.scalars.miou);
    assert.deepEqual(json.classes.map((c) => c.class), ['bg', 'a', 'b', 'c', 'd']);
    json.classes.forEach((c, i) => assert.equal(c.true_pixels, fx.confusion[i]!.reduce((a, b) => a + b, 0)));
    const md = readFileSync(path.join(dir, 'per_class_iou.md'), 'utf8').split('\n');
    assert.equal(md[2], '| class | IoU % | true pixels | predicted pixels |');
    assert.match(md[4]!, /^\| d \| 0\.00 \| \d+ \| \d+ \|$/, 'the worst class first');
    // The heatmap is a real PNG of a size that fits 5 named rows and columns.
    const meta = await sharp(path.join(dir, 'confusion_matrix.png')).metadata();
    assert.equal(meta.format, 'png');
    assert.ok(meta.width! > 5 * 30 && meta.height! > 5 * 30, `${meta.width}×${meta.height}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('averaging rules: nonzero_tp vs present vs all', async () => {
  // truth: classes 0, 1 present; class 1 never predicted right; class 2 absent everywhere.
  const truth = [0, 0, 1, 1];
  const pred = [0, 1, 0, 0];
  const iou0 = 1 / (2 + 3 - 1);
  const run = async (average: string) => {
    const m = (await create('metric', 'miou', { num_classes: 3, ignore_index: 255, average })) as Metric;
    m.update(pred, truth);
    return (await m.compute()).scalars.miou!;
  };
  assert.equal(await run('nonzero_tp'), iou0);
  assert.equal(await run('present'), iou0 / 2);
  assert.equal(await run('all'), iou0 / 3);
});

test('miou takes classes and ignore index from the dataset; reset clears; bad input is a clear error', async () => {
  const dataset = { numClasses: 2, ignoreIndex: 255, classNames: ['background', 'digit'] } as unknown as SegmentationDataset;
  const m = (await create('metric', 'miou', {}, { components: { dataset } })) as Metric;
  m.update([0, 1, 1, 0], [0, 1, 255, 1]);
  const r = await m.compute();
  assert.equal(r.scalars.pixels, 3, 'void pixels are not counted');
  assert.equal(r.scalars['iou/digit'], 0.5);
  m.reset();
  assert.equal((await m.compute()).scalars.pixels, 0);
  assert.throws(() => m.update([0, 1], [0]), /prediction has 2 pixels but the ground truth has 1/);
  assert.throws(() => m.update([7], [0]), /predicted class 7/);
  await assert.rejects(create('metric', 'miou', {}, { slot: 'metrics.miou' }), /metrics\.miou: miou needs `num_classes`/);
});

test('the row-normalised confusion matrix gives each true class its share of predictions', async () => {
  const { ConfusionMatrix, rowNormalised } = await import('../../plugins/metrics/miou.js');
  const cm = new ConfusionMatrix(3);
  cm.add([0, 1, 1, 1, 2], [0, 0, 1, 1, 1], 255);
  const rows = rowNormalised(cm);
  assert.deepEqual(rows[0], [0.5, 0.5, 0]);
  assert.deepEqual(rows[1], [0, 2 / 3, 1 / 3]);
  assert.ok(rows[2]!.every(Number.isNaN), 'a class never in the truth has no row');
});
