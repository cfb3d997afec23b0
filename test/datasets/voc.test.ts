import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { AblateError, type EvalSample } from '../../src/index.js';
import { writeVocFixture } from '../data/helpers.js';
import { recordingLog } from '../support/log.js';
import { tmpDir } from '../support/tmp.js';
import { buildDataset, take } from './build.js';

const quiet = recordingLog();

test('voc: labeled = floor(f·N) of a seeded shuffle, written to the run folder and reusable exactly', async () => {
  const fx = await writeVocFixture({ train: 12 });
  const runDir = tmpDir('run');
  const ds = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.3, split_seed: 5 }, { runDir, log: quiet });
  assert.equal(ds.partition.labeled.length, 3); // floor(0.3·12) = 3, not 2 from float noise
  assert.equal(ds.partition.unlabeled.length, 9);
  assert.deepEqual([...ds.partition.labeled, ...ds.partition.unlabeled].sort(), [...fx.train].sort());
  const file = path.join(runDir, 'partition.json');
  assert.equal(ds.partition.file, file);
  const saved = JSON.parse(readFileSync(file, 'utf8'));
  assert.deepEqual(saved.labeled, ds.partition.labeled);
  // Same seed → same split; another seed → another split.
  const again = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.3, split_seed: 5 }, { log: quiet });
  assert.deepEqual(again.partition.labeled, ds.partition.labeled);
  const other = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.3, split_seed: 6 }, { log: quiet });
  assert.notDeepEqual(other.partition.labeled, ds.partition.labeled);
  // The same run folder again (a resume) keeps the split it has, even if the file was edited.
  const edited = { ...saved, labeled: saved.labeled.slice(1), unlabeled: [saved.labeled[0], ...saved.unlabeled] };
  writeFileSync(file, JSON.stringify(edited));
  const resumed = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.3, split_seed: 5 }, { runDir, log: quiet });
  assert.deepEqual(resumed.partition.labeled, edited.labeled);
  writeFileSync(file, JSON.stringify(saved));
  // …but the same folder asked for another split is refused, naming the key and both values.
  await assert.rejects(
    buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.5, split_seed: 5 }, { runDir, log: quiet }),
    (e: unknown) => e instanceof AblateError && e.code === 'data.partition-mismatch' && /dataset\.labeled_fraction 0\.3, but this run asks for 0\.5/.test(e.message),
  );
  await assert.rejects(
    buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.3, split_seed: 6 }, { runDir, log: quiet }),
    (e: unknown) => e instanceof AblateError && /split_seed 5, but this run asks for 6/.test(e.message),
  );
  // Reload: the file wins over fraction and seed, and is copied into the new run.
  const run2 = tmpDir('run');
  const reused = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.5, split_seed: 99, partition_file: file }, { runDir: run2, log: quiet });
  assert.deepEqual(reused.partition.labeled, ds.partition.labeled);
  assert.deepEqual(reused.partition.unlabeled, ds.partition.unlabeled);
  assert.ok(existsSync(path.join(run2, 'partition.json')));
  // A partition of another list is refused.
  writeFileSync(file, JSON.stringify({ ...saved, labeled: ['nope', ...saved.labeled] }));
  await assert.rejects(buildDataset({ type: 'voc', root: fx.root, partition_file: file }, { log: quiet }), (e: unknown) => e instanceof AblateError && /'nope' is not in the training list/.test(e.message));
});

test('voc describes its own inputs: the labeled and unlabeled ids actually used, by digest, with their source', async () => {
  const { createHash } = await import('node:crypto');
  const fx = await writeVocFixture({ train: 12 });
  const ds = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.3, split_seed: 5 }, { log: quiet });
  const digest = (ids: readonly string[]) => createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16);
  const source = path.join(fx.root, 'ImageSets/Segmentation/train_aug.txt');
  assert.deepEqual(ds.describeInputs!(), [
    { name: 'voc-labeled', digest: digest(ds.partition.labeled), source, context: 'training', profile: { images: 3, labeled_fraction: 0.3 } },
    { name: 'voc-unlabeled', digest: digest(ds.partition.unlabeled), source, context: 'training', profile: { images: 9 } },
  ]);
  const full = await buildDataset({ type: 'voc', root: fx.root }, { log: quiet });
  assert.deepEqual(full.describeInputs!().map((i) => [i.name, i.profile]), [['voc-labeled', { images: 12, labeled_fraction: 1 }]]);
});

test('voc: streams give fixed-size batches with aligned labels; unlabeled has no labels; drop_last and resume', async () => {
  const fx = await writeVocFixture({ train: 12, classes: 4 });
  const ds = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.5, crop: 16, scale: { min: 0.5, max: 1.6, steps: 12 }, mirror: true, normalize: null }, { log: quiet });
  const labeled = ds.stream('labeled', { subset: 'labeled', batchSize: 4, seed: 1 });
  const batches = await take(labeled, 5);
  // 6 labeled, batch 4, drop_last off: 4, 2, 4, 2, 4
  assert.deepEqual(batches.map((b) => b.shape[0]), [4, 2, 4, 2, 4]);
  for (const b of batches) {
    assert.deepEqual(b.shape.slice(1), [16, 16, 3]);
    assert.ok(b.labels);
    // Red encodes the class (10·c; void 250; padding 0 with normalize null): check alignment.
    let agree = 0;
    let n = 0;
    for (let i = 0; i < b.labels.length; i++) {
      const l = b.labels[i] as number;
      if (l === 255) continue;
      n++;
      if (Math.abs((b.images[i * 3] as number) - l * 10) < 12) agree++;
    }
    assert.ok(agree / n > 0.85, `only ${agree}/${n} labeled pixels match their image`);
    assert.ok(b.ids.every((id) => ds.partition.labeled.includes(id)));
  }
  const epoch1 = new Set([...batches[0]!.ids, ...batches[1]!.ids]);
  assert.equal(epoch1.size, 6, 'an epoch visits every labeled id once');

  const unlabeled = ds.stream('unlabeled', { subset: 'unlabeled', batchSize: 3, seed: 2 });
  const u = await unlabeled.next();
  assert.equal(u.labels, undefined);
  assert.ok(u.ids.every((id) => ds.partition.unlabeled.includes(id)));

  const dropped = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 0.5, crop: 16, drop_last: true }, { log: quiet });
  assert.deepEqual((await take(dropped.stream('labeled', { subset: 'labeled', batchSize: 4, seed: 1 }), 3)).map((b) => b.shape[0]), [4, 4, 4]);

  // Resume: a new stream set to the saved state continues with identical batches.
  const a = ds.stream('labeled', { subset: 'labeled', batchSize: 4, seed: 3 });
  await take(a, 3);
  const state = a.getState();
  const next = await take(a, 3);
  const b = ds.stream('labeled', { subset: 'labeled', batchSize: 4, seed: 3 });
  b.setState(state);
  const resumed = await take(b, 3);
  assert.deepEqual(resumed.map((x) => x.ids), next.map((x) => x.ids));
  assert.deepEqual(resumed[2]!.images, next[2]!.images);
  a.close();
  b.close();
});

test('voc: a stream asked for unpadded samples never pads (rescales or resizes small images), as the reference\'s ground-truth loader', async () => {
  const fx = await writeVocFixture({ train: 6 });
  const ds = await buildDataset({ type: 'voc', root: fx.root, crop: 30, normalize: null }, { log: quiet });
  const gt = await take(ds.stream('groundTruth', { subset: 'labeled', unpadded: true, batchSize: 3, seed: 0 }), 4);
  const lab = await take(ds.stream('labeled', { subset: 'labeled', batchSize: 3, seed: 0 }), 4);
  const padded = (b: { images: Float32Array; labels?: Int32Array }) => {
    let n = 0;
    for (let i = 0; i < (b.labels?.length ?? 0); i++) if (b.labels?.[i] === 255 && b.images[i * 3] === 0) n++;
    return n;
  };
  assert.ok(lab.some((b) => padded(b) > 0), 'labeled stream pads images smaller than the crop');
  assert.ok(gt.every((b) => padded(b) === 0), 'the unpadded stream has no padding');
});

test('voc: evaluation yields whole images padded to eval_pad with the original size and label; palette labels decode the same', async () => {
  const fx = await writeVocFixture({ val: 3 });
  const ds = await buildDataset({ type: 'voc', root: fx.root, eval_pad: 32, normalize: { mean: [10, 20, 30], order: 'rgb' } }, { log: quiet });
  const pal = await buildDataset({ type: 'voc', root: fx.root, eval_pad: 32, val_label_dir: 'SegmentationClass' }, { log: quiet });
  const got: EvalSample[] = [];
  for await (const s of ds.evaluation()) got.push(s);
  const viaPalette: EvalSample[] = [];
  for await (const s of pal.evaluation({ limit: 2 })) viaPalette.push(s);
  assert.deepEqual(got.map((s) => s.id), fx.val);
  assert.equal(viaPalette.length, 2);
  for (const [i, s] of got.entries()) {
    const [h, w] = fx.size(s.id);
    assert.deepEqual(s.shape, [1, 32, 32, 3]);
    assert.equal(s.height, h);
    assert.equal(s.width, w);
    assert.equal(s.label.length, h * w);
    // Padding is the mean colour, i.e. zero after normalisation.
    const last = (32 * 32 - 1) * 3;
    assert.deepEqual([...s.image.subarray(last, last + 3)], [0, 0, 0]);
    if (i < 2) assert.deepEqual(viaPalette[i]!.label, s.label);
  }
  assert.equal(ds.numClasses, 21);
  assert.equal(ds.classNames[15], 'person');
});

test("voc: RGB colour labels decode through the plugin's own VOC palette (the core knows no palette)", async () => {
  const fx = await writeVocFixture({ val: 2 });
  const { mkdirSync } = await import('node:fs');
  const { default: sharp } = await import('sharp');
  mkdirSync(path.join(fx.root, 'SegmentationClassRGB'));
  for (const id of fx.val) {
    // sharp expands the indexed-colour VOC label to its RGB colours.
    const { data, info } = await sharp(path.join(fx.root, 'SegmentationClass', `${id}.png`)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    assert.equal(info.channels, 3);
    await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).png().toFile(path.join(fx.root, 'SegmentationClassRGB', `${id}.png`));
  }
  const byIndex = await buildDataset({ type: 'voc', root: fx.root, eval_pad: 32 }, { log: quiet });
  const byColour = await buildDataset({ type: 'voc', root: fx.root, eval_pad: 32, val_label_dir: 'SegmentationClassRGB' }, { log: quiet });
  const want: EvalSample[] = [];
  for await (const s of byIndex.evaluation()) want.push(s);
  const got: EvalSample[] = [];
  for await (const s of byColour.evaluation()) got.push(s);
  assert.equal(got.length, 2);
  for (const [i, s] of got.entries()) assert.deepEqual(s.label, want[i]!.label);
  assert.ok(new Set(want.flatMap((s) => [...s.label])).size > 2, 'the labels hold several classes');
});

test('voc bad data: missing file, corrupt JPEG, out-of-range label, size mismatch, empty list', async () => {
  const fx = await writeVocFixture({ train: 8, val: 2 });
  const [a, b, c, d] = fx.train as [string, string, string, string];
  const jpg = (id: string) => path.join(fx.root, 'JPEGImages', `${id}.jpg`);
  const png = (id: string) => path.join(fx.root, 'SegmentationClassAug', `${id}.png`);
  rmSync(jpg(a));
  writeFileSync(jpg(b), readFileSync(jpg(b)).subarray(0, 60));
  const { encodeIndexedPng } = await import('../../src/data/index.js');
  const [h, w] = fx.size(c);
  writeFileSync(png(c), encodeIndexedPng(w, h, new Uint8Array(h * w).fill(42)));
  writeFileSync(png(d), encodeIndexedPng(w + 1, h, new Uint8Array(h * (w + 1))));

  await assert.rejects(buildDataset({ type: 'voc', root: fx.root }, { log: quiet }), (e: unknown) => e instanceof AblateError && e.code === 'data.missing-file' && e.message.includes(jpg(a)));

  // Decode-time problems surface from the stream as located errors …
  const strictAfterMissing = async (id: string, code: string, pattern: RegExp) => {
    const list = path.join(fx.root, `one-${id}.txt`);
    writeFileSync(list, `${id}\n`);
    const ds = await buildDataset({ type: 'voc', root: fx.root, train_list: list, crop: 8 }, { log: quiet });
    await assert.rejects(ds.stream('labeled', { subset: 'labeled', batchSize: 1, seed: 0 }).next(), (e: unknown) => e instanceof AblateError && e.code === code && pattern.test(e.message), `${code} for ${id}`);
  };
  await strictAfterMissing(b, 'data.corrupt-image', new RegExp(`${b}\\.jpg: cannot decode image`));
  await strictAfterMissing(c, 'data.bad-label', /label value 42 at x=0, y=0 is outside \[0, 21\) ∪ \{255\}/);
  await strictAfterMissing(d, 'data.size-mismatch', /label is \d+×\d+ but image .* is \d+×\d+/);

  // … or, with on_bad_sample: skip, warnings, replacements and a count.
  const log = recordingLog();
  const ds = await buildDataset({ type: 'voc', root: fx.root, on_bad_sample: 'skip', crop: 8 }, { log });
  assert.equal(ds.badSampleCount(), 1, 'the missing file is counted at build time');
  const batches = await take(ds.stream('labeled', { subset: 'labeled', batchSize: 7, seed: 0 }), 3);
  for (const batch of batches) {
    assert.equal(batch.shape[0], 7, 'skipped samples are replaced, the batch stays full');
    assert.ok(!batch.ids.some((id) => [a, b, c, d].includes(id)));
  }
  assert.equal(ds.badSampleCount(), 4);
  assert.equal(log.warnings.length, 4, log.warnings.join('\n'));
  assert.ok(log.warnings.some((m) => m.includes(png(c))));

  const empty = path.join(fx.root, 'empty.txt');
  writeFileSync(empty, '\n\n');
  await assert.rejects(buildDataset({ type: 'voc', root: fx.root, val_list: empty }, { log: quiet }), (e: unknown) => e instanceof AblateError && e.code === 'data.empty-list' && e.message.includes(empty));
  await assert.rejects(buildDataset({ type: 'voc', root: path.join(fx.root, 'nowhere') }, { log: quiet }), (e: unknown) => e instanceof AblateError && e.code === 'data.missing-list');
});

test('voc: the stream refuses what cannot work (no unlabeled data, fewer samples than a dropped batch, an unknown subset)', async () => {
  const fx = await writeVocFixture({ train: 5 });
  const full = await buildDataset({ type: 'voc', root: fx.root, labeled_fraction: 1, crop: 8 }, { log: quiet });
  // Named by the trainer: the message says which of its streams it is.
  assert.throws(() => full.stream('student', { subset: 'unlabeled', batchSize: 2, seed: 0 }), (e: unknown) => e instanceof AblateError && e.code === 'data.empty-stream' && /the student stream has no samples/.test(e.message));
  assert.throws(
    () => full.stream('real', { subset: 'groundTruth' as 'labeled', batchSize: 2, seed: 0 }),
    (e: unknown) => e instanceof AblateError && e.code === 'data.bad-stream-subset' && /the real stream asks for subset 'groundTruth'/.test(e.message),
  );
  const dl = await buildDataset({ type: 'voc', root: fx.root, crop: 8, drop_last: true }, { log: quiet });
  assert.throws(() => dl.stream('labeled', { subset: 'labeled', batchSize: 10, seed: 0 }), (e: unknown) => e instanceof AblateError && /drop_last/.test(e.message));
});
