import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { decodeIndexedPng, decodeRgb, AblateError, SeededRng, mixSeed } from '../../src/index.js';
import { compose, COMPOSE_LEGACY, warpGlyph, type ComposeOptions, type Composed } from '../../plugins/datasets/mini-voc/compose.js';
import { composeOptions, MINI_VOC_BUILD_DEFAULTS, checkBuildOptions, isBuilt } from '../../plugins/datasets/mini-voc/build.js';
import { loadGlyphPools } from '../../plugins/datasets/mini-voc/glyphs.js';
import { miniVocDataset } from '../../plugins/datasets/mini-voc/index.js';
import { parseToolFlags, toolOptions } from '../../src/cli/commands/data.js';
import { recordingLog } from '../support/log.js';
import { tmpDir } from '../support/tmp.js';
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
  // A build written before the shape options existed counts as built with their legacy values.
  const manifestFile = path.join(a, 'mini-voc.json');
  const m = JSON.parse(readFileSync(manifestFile, 'utf8'));
  for (const k of Object.keys(COMPOSE_LEGACY)) delete m.recipe[k];
  writeFileSync(manifestFile, JSON.stringify(m));
  assert.equal(isBuilt({ ...MINI_VOC_BUILD_DEFAULTS, ...COMPOSE_LEGACY, out: a, ...small, seed: 3, overwrite: false }), true);
  assert.equal(isBuilt({ ...MINI_VOC_BUILD_DEFAULTS, out: a, ...small, seed: 3, overwrite: false, max_clutter: 1 }), false);
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
    assert.ok(aug && !aug.colours, 'SegmentationClassAug is 8-bit gray');
    assert.ok(pal?.colours, 'SegmentationClass is an indexed-colour PNG (VOC palette)');
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
  const [batch] = await take(ds.stream('labeled', { subset: 'labeled', batchSize: 2, seed: 0 }), 1);
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
  assert.equal(opts.train, MINI_VOC_BUILD_DEFAULTS.train, 'default applied');
  assert.equal(opts.digit_stroke, MINI_VOC_BUILD_DEFAULTS.digit_stroke, 'the shape options too');
  await assert.rejects(toolOptions(schema, parseToolFlags(['--out', 'd', '--trian', '5']), 'mini-voc'), (e: unknown) => e instanceof AblateError && /--trian/.test(e.message) && /--train/.test(e.hint ?? ''));
  await assert.rejects(toolOptions(schema, parseToolFlags(['--size', '8']), 'mini-voc'), (e: unknown) => e instanceof AblateError && /--out/.test(e.message) && /--size/.test(e.message));
});

// The builder's shape options (issue 15), checked on what they are for, image by image.
const pools = loadGlyphPools(800, 200).train;
const base: ComposeOptions = { ...composeOptions(MINI_VOC_BUILD_DEFAULTS), size: 48 };
function draw(o: Partial<ComposeOptions>, n = 40): Composed[] {
  return Array.from({ length: n }, (_, i) => compose(new SeededRng(mixSeed(9, 1, i)), { ...base, ...o }, pools));
}
const countLabels = (images: Composed[], keep: (v: number, i: number) => boolean) =>
  images.reduce((s, c) => s + c.label.reduce((t, v, i) => t + (keep(v, i) ? 1 : 0), 0), 0);

test('mini-voc COMPOSE_LEGACY draws exactly the images of the first recipe (hash taken before the options existed)', () => {
  const h = createHash('sha256');
  for (let i = 0; i < 20; i++) {
    const c = compose(new SeededRng(mixSeed(5, 1, i)), { size: 40, min_objects: 2, max_objects: 4, min_scale: 0.35, max_scale: 0.8, noise: 14, ...COMPOSE_LEGACY }, pools);
    h.update(c.rgb).update(c.label);
  }
  assert.equal(h.digest('hex'), 'ce022349b9e71bb890caae0e149bb339a46ef00eb6bcad7711a565146eb97d3a');
});

test('mini-voc digit_stroke thickens the digits and leaves the garments as they are', () => {
  const isDigit = (v: number) => v >= 1 && v <= 10;
  const isGarment = (v: number) => v >= 11 && v <= 20;
  const thin = draw({ digit_stroke: 0 });
  const bold = draw({ digit_stroke: 2 });
  assert.ok(countLabels(bold, isDigit) > 1.5 * countLabels(thin, isDigit), `${countLabels(bold, isDigit)} vs ${countLabels(thin, isDigit)} digit pixels`);
  assert.equal(countLabels(bold, isGarment) > 0, true);
});

test('mini-voc max_overlap keeps objects apart: more of each object stays visible', () => {
  const crowded = { min_objects: 4, max_objects: 4, min_scale: 0.4, max_scale: 0.45, max_outside: 0 };
  const isObject = (v: number) => v >= 1 && v <= 20;
  const any = countLabels(draw({ ...crowded, max_overlap: 1 }), isObject);
  const apart = countLabels(draw({ ...crowded, max_overlap: 0 }), isObject);
  assert.ok(apart > 1.1 * any, `visible object pixels: ${apart} apart vs ${any} with any overlap`);
});

test('mini-voc warpGlyph: no warp is the identity, 90° is the exact quarter turn, a shear moves rows and keeps their mass', () => {
  const G = 28;
  const glyph = pools[4]![7]!; // a digit-4 shape
  assert.deepEqual([...warpGlyph(glyph, 0, 0)], [...glyph]);
  const turned = warpGlyph(glyph, 90, 0);
  let diff = 0;
  for (let y = 0; y < G; y++) for (let x = 0; x < G; x++) diff = Math.max(diff, Math.abs(turned[y * G + x]! - glyph[(G - 1 - x) * G + y]!));
  assert.ok(diff < 1e-5, `largest difference to the quarter turn ${diff}`);
  const sheared = warpGlyph(glyph, 0, 0.3);
  for (let y = 0; y < G; y++) {
    const row = (m: Float32Array) => m.slice(y * G, (y + 1) * G).reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(row(sheared) - row(glyph)) < 1e-3 * G, `row ${y}: ${row(sheared)} vs ${row(glyph)}`);
  }
  assert.notDeepEqual([...sheared], [...glyph]);
});

test('mini-voc max_rotation/max_shear give every placement its own shape, at about the same area', () => {
  const isObject = (v: number) => v >= 1 && v <= 20;
  const plain = draw({ min_objects: 1, max_objects: 1, max_outside: 0 });
  const warped = draw({ min_objects: 1, max_objects: 1, max_outside: 0, max_rotation: 30, max_shear: 0.3 });
  assert.notDeepEqual(warped.map((c) => c.label), plain.map((c) => c.label));
  const [a, b] = [countLabels(plain, isObject), countLabels(warped, isObject)];
  assert.ok(b > 0.8 * a && b < 1.2 * a, `object pixels ${b} warped vs ${a}`);
});

test('mini-voc max_outside bounds how far objects leave the image', () => {
  const S = base.size;
  // Digits: MNIST centres them in 20 of 28 pixels, so a glyph box inside the image leaves the border free.
  const digitOnBorder = (v: number, i: number) => v >= 1 && v <= 10 && (i < S || i >= S * (S - 1) || i % S === 0 || i % S === S - 1);
  const digits = { digit_stroke: 0, min_scale: 0.3, max_scale: 0.6 };
  assert.equal(countLabels(draw({ ...digits, max_outside: 0 }), digitOnBorder), 0);
  assert.ok(countLabels(draw({ ...digits, max_outside: 0.5 }), digitOnBorder) > 0);
});

/** Horizontal edge energy: the summed difference of each pixel's channels to its left neighbour's. */
const edges = (images: Composed[]) => images.reduce((s, c) => s + c.rgb.reduce((t, v, i) => t + (i % (3 * base.size) >= 3 ? Math.abs(v - (c.rgb[i - 3] as number)) : 0), 0), 0);
/** The object classes (1–20) an image shows. */
const classesIn = (c: Composed) => new Set([...c.label].filter((v) => v >= 1 && v <= 20)).size;

test('mini-voc clutter adds unlabeled strokes and blobs to the background only', () => {
  const empty = { min_objects: 0, max_objects: 0, noise: 0 };
  const clean = draw({ ...empty, min_clutter: 0, max_clutter: 0 });
  const cluttered = draw({ ...empty, min_clutter: 8, max_clutter: 8 });
  assert.equal(countLabels(cluttered, (v) => v !== 0), 0, 'clutter is background');
  assert.ok(edges(cluttered) > 1.2 * edges(clean), `edge energy ${edges(cluttered)} vs ${edges(clean)}`);
  assert.throws(() => checkBuildOptions({ ...MINI_VOC_BUILD_DEFAULTS, min_clutter: 3, max_clutter: 2 }), (e: unknown) => e instanceof AblateError && /min_clutter/.test(e.message));
});

test('mini-voc min_objects/max_objects bound the objects per image', () => {
  assert.equal(countLabels(draw({ min_objects: 0, max_objects: 0 }), (v) => v !== 0), 0, 'no objects: background only, no void band');
  assert.deepEqual([...new Set(draw({ min_objects: 1, max_objects: 1 }).map(classesIn))], [1], 'one object, one class in every image');
  const three = draw({ min_objects: 3, max_objects: 3 }).map(classesIn);
  assert.ok(three.every((n) => n >= 1 && n <= 3), `classes per image: ${three.join(' ')}`);
  assert.ok(three.reduce((s, n) => s + n, 0) / three.length > 2, `classes per image: ${three.join(' ')}`);
  assert.throws(() => checkBuildOptions({ ...MINI_VOC_BUILD_DEFAULTS, min_objects: 4, max_objects: 3 }), (e: unknown) => e instanceof AblateError && /min_objects/.test(e.message));
});

test('mini-voc min_scale/max_scale set the object size: the labelled area grows with the side squared', () => {
  const one = { min_objects: 1, max_objects: 1, max_outside: 0 };
  const small = countLabels(draw({ ...one, min_scale: 0.3, max_scale: 0.3 }), (v) => v >= 1 && v <= 20);
  const large = countLabels(draw({ ...one, min_scale: 0.8, max_scale: 0.8 }), (v) => v >= 1 && v <= 20);
  // (0.8 / 0.3)² ≈ 7.1 for the same shapes; glyph outlines and the void band shave some of it.
  assert.ok(large > 4 * small && large < 10 * small, `${large} vs ${small} object pixels`);
  assert.throws(() => checkBuildOptions({ ...MINI_VOC_BUILD_DEFAULTS, min_scale: 0.9, max_scale: 0.5 }), (e: unknown) => e instanceof AblateError && /min_scale/.test(e.message));
});

test('mini-voc noise roughens the image and leaves the labels alone', () => {
  const empty = { min_objects: 0, max_objects: 0, min_clutter: 0, max_clutter: 0 };
  const clean = draw({ ...empty, noise: 0 });
  const noisy = draw({ ...empty, noise: 20 });
  assert.ok(edges(noisy) > 2 * edges(clean), `edge energy ${edges(noisy)} vs ${edges(clean)}`);
  const objects = { min_objects: 2, max_objects: 2 };
  assert.deepEqual(draw({ ...objects, noise: 20 }).map((c) => c.label), draw({ ...objects, noise: 0 }).map((c) => c.label));
});

test('mini-voc warping changes the training images only: the evaluation images are the same files', async () => {
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  const [plain, warped] = [tmpDir('minivoc-w'), tmpDir('minivoc-w')];
  await miniVocDataset.tool!.run({ out: plain, ...small, train: 12, seed: 3 }, log);
  await miniVocDataset.tool!.run({ out: warped, ...small, train: 12, seed: 3, max_rotation: 30, max_shear: 0.3 }, log);
  const files = (dir: string, prefix: string) => readdirSync(path.join(dir, 'SegmentationClassAug')).filter((f) => f.startsWith(prefix)).sort()
    .flatMap((f) => [readFileSync(path.join(dir, 'SegmentationClassAug', f)), readFileSync(path.join(dir, 'JPEGImages', f.replace('.png', '.jpg')))]);
  assert.deepEqual(files(warped, 'val_'), files(plain, 'val_'));
  assert.notDeepEqual(files(warped, 'train_'), files(plain, 'train_'));
  assert.equal(isBuilt({ ...MINI_VOC_BUILD_DEFAULTS, out: warped, ...small, train: 12, seed: 3, max_rotation: 30, max_shear: 0.3 }), true);
  assert.equal(isBuilt({ ...MINI_VOC_BUILD_DEFAULTS, out: warped, ...small, train: 12, seed: 3 }), false, 'a build records its warping');
});

test('mini-voc jpeg_quality changes only how the images are encoded', async () => {
  const log = { info: () => undefined, warn: () => undefined, debug: () => undefined };
  const [low, high] = [tmpDir('minivoc-q'), tmpDir('minivoc-q')];
  await miniVocDataset.tool!.run({ out: low, ...small, seed: 2, jpeg_quality: 30 }, log);
  await miniVocDataset.tool!.run({ out: high, ...small, seed: 2, jpeg_quality: 95 }, log);
  const files = (dir: string, sub: string) => readdirSync(path.join(dir, sub)).sort().map((f) => readFileSync(path.join(dir, sub, f)));
  assert.deepEqual(files(low, 'SegmentationClassAug'), files(high, 'SegmentationClassAug'), 'the same labels');
  const bytes = (dir: string) => files(dir, 'JPEGImages').reduce((s, b) => s + b.length, 0);
  assert.ok(bytes(low) < 0.7 * bytes(high), `${bytes(low)} vs ${bytes(high)} JPEG bytes`);
});
