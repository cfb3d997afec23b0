import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { decodeIndexedPng, decodeRgb, AblateError } from '../../src/index.js';
import { miniVocDataset } from '../../plugins/datasets/mini-voc/index.js';
import { parseToolFlags, toolOptions } from '../../src/cli/commands/data.js';
import { tmpDir, recordingLog } from '../data/helpers.js';
import { buildDataset, take } from './build.js';

function digest(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = path.join(d, name.name);
      if (name.isDirectory()) walk(p);
      else if (name.name !== 'mini-voc.json') h.update(path.relative(dir, p)).update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

const small = { size: 32, train: 6, val: 3 };

test('mini-voc builder writes the VOC-aug layout, deterministically per seed, and prints class frequencies', async () => {
  const infos: string[] = [];
  const log = { info: (m: string) => void infos.push(m), warn: () => undefined, debug: () => undefined };
  const tool = miniVocDataset.tool!;
  const a = tmpDir('minivoc');
  const b = tmpDir('minivoc');
  const c = tmpDir('minivoc');
  await tool.run({ out: a, ...small, seed: 3 }, log);
  await tool.run({ out: b, ...small, seed: 3 }, log);
  await tool.run({ out: c, ...small, seed: 4 }, log);
  assert.equal(digest(a), digest(b), 'same seed, same bytes');
  const before = infos.length;
  await tool.run({ out: a, ...small, seed: 3 }, log);
  assert.match(infos.slice(before).join('\n'), /already holds this build/);
  assert.notEqual(digest(a), digest(c), 'another seed, other images');

  const train = readFileSync(path.join(a, 'ImageSets/Segmentation/train_aug.txt'), 'utf8').trim().split('\n');
  const val = readFileSync(path.join(a, 'ImageSets/Segmentation/val.txt'), 'utf8').trim().split('\n');
  assert.equal(train.length, 6);
  assert.equal(val.length, 3);
  const seen = new Set<number>();
  for (const id of [...train, ...val]) {
    const img = await decodeRgb(path.join(a, 'JPEGImages', `${id}.jpg`));
    assert.deepEqual([img.width, img.height], [32, 32]);
    const aug = decodeIndexedPng(readFileSync(path.join(a, 'SegmentationClassAug', `${id}.png`)));
    const pal = decodeIndexedPng(readFileSync(path.join(a, 'SegmentationClass', `${id}.png`)));
    assert.ok(aug && !aug.palette, 'SegmentationClassAug is 8-bit gray');
    assert.ok(pal?.palette, 'SegmentationClass is a palette PNG');
    assert.deepEqual(pal.data, aug.data);
    for (const v of aug.data) {
      assert.ok(v <= 20 || v === 255, `label value ${v} in ${id}`);
      seen.add(v);
    }
  }
  assert.ok(seen.has(0) && seen.has(255), 'background and a void band');
  assert.ok([...seen].filter((v) => v >= 1 && v <= 20).length >= 3, 'several object classes');
  const table = infos.find((m) => m.startsWith('class pixel frequencies'));
  assert.ok(table && /background\s+\d+\.\d+%/.test(table) && /ankle-boot/.test(table), table);
  const manifest = JSON.parse(readFileSync(path.join(a, 'mini-voc.json'), 'utf8'));
  const total = Object.values(manifest.train_pixel_frequencies as Record<string, number>).reduce((s, f) => s + f, 0);
  assert.ok(Math.abs(total - 1) < 1e-9);
});

test('mini-voc dataset builds on first use and reads through the VOC reader', async () => {
  const base = tmpDir('minivoc-base');
  const ds = await buildDataset({ type: 'mini-voc', root: 'data/mv', build: { ...small, seed: 1 }, labeled_fraction: 0.5, crop: 24 }, { log: recordingLog(), baseDir: base });
  assert.ok(existsSync(path.join(base, 'data/mv/JPEGImages')));
  assert.equal(ds.numClasses, 21);
  assert.equal(ds.classNames[20], 'ankle-boot');
  assert.equal(ds.partition.labeled.length, 3);
  const [batch] = await take(ds.stream('labeled', { batchSize: 2, seed: 0 }), 1);
  assert.deepEqual(batch!.shape, [2, 24, 24, 3]);
  let evals = 0;
  for await (const s of ds.evaluation()) {
    evals++;
    assert.deepEqual(s.shape, [1, 64, 64, 3], 'padded to the default eval_pad');
    assert.deepEqual([s.height, s.width, s.label.length], [32, 32, 32 * 32]);
  }
  assert.equal(evals, 3);
});

test('ablate data flags map to the tool schema: typed, defaulted, unknown ones named', async () => {
  const flags = parseToolFlags(['--out', 'd', '--size', '48', '--overwrite', '--min-objects=2']);
  assert.deepEqual(flags, { out: 'd', size: '48', overwrite: true, min_objects: '2' });
  const schema = miniVocDataset.tool!.options;
  const opts = await toolOptions(schema, flags, 'mini-voc');
  assert.equal(opts.size, 48);
  assert.equal(opts.min_objects, 2);
  assert.equal(opts.train, 2000, 'default applied');
  await assert.rejects(toolOptions(schema, parseToolFlags(['--out', 'd', '--trian', '5']), 'mini-voc'), (e: unknown) => e instanceof AblateError && /--trian/.test(e.message) && /--train/.test(e.hint ?? ''));
  await assert.rejects(toolOptions(schema, parseToolFlags(['--size', '8']), 'mini-voc'), (e: unknown) => e instanceof AblateError && /--out/.test(e.message) && /--size/.test(e.message));
});
