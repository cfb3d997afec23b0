import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import {
  BadSampleError,
  SeededRng,
  decodeIndexedPng,
  decodeLabel,
  decodeRgb,
  encodeIndexedPng,
  encodeJpeg,
  mixSeed,
  labelColourLookup,
  shuffled,
} from '../../src/data/index.js';
import { vocPalette } from '../../plugins/datasets/voc-palette.js';
import { tmpDir } from '../support/tmp.js';

test('SeededRng is deterministic per seed, uniform enough, and int() stays in range', () => {
  const a = new SeededRng(42);
  const b = new SeededRng(42);
  const c = new SeededRng(43);
  const xs = Array.from({ length: 1000 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 1000 }, () => b.next()));
  assert.notDeepEqual(xs.slice(0, 10), Array.from({ length: 10 }, () => c.next()));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.05, `mean ${mean}`);
  const counts = new Array(5).fill(0);
  for (let i = 0; i < 5000; i++) counts[a.int(3, 8) - 3]++;
  assert.ok(counts.every((n) => n > 850 && n < 1150), `int counts ${counts}`);
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
  const ids = Array.from({ length: 50 }, (_, i) => i);
  const s = shuffled(ids, new SeededRng(7));
  assert.deepEqual([...s].sort((x, y) => x - y), ids);
  assert.deepEqual(s, shuffled(ids, new SeededRng(7)));
});

test('VOC palette matches the devkit colours', () => {
  const p = vocPalette();
  assert.deepEqual([...p.subarray(0, 3)], [0, 0, 0]);
  assert.deepEqual([...p.subarray(3, 6)], [128, 0, 0]); // aeroplane
  assert.deepEqual([...p.subarray(15 * 3, 15 * 3 + 3)], [192, 128, 128]); // person
  assert.deepEqual([...p.subarray(255 * 3)], [224, 224, 192]); // void
});

test('index PNG round-trips through our codec and sharp reads it as the same gray values', async () => {
  const w = 13;
  const h = 7;
  const data = Uint8Array.from({ length: w * h }, (_, i) => (i * 37) % 256);
  const png = encodeIndexedPng(w, h, data);
  const back = decodeIndexedPng(png);
  assert.ok(back);
  assert.deepEqual([...back.data], [...data]);
  assert.equal((await sharp(png).metadata()).channels, 1);
  const viaSharp = await sharp(png).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  assert.deepEqual([...viaSharp.data], [...data]);
  // An index label that another tool saved as RGB gray still decodes to its values.
  const dir = tmpDir('codec');
  const f16 = path.join(dir, 'rgb-gray.png');
  await sharp(Buffer.from(data), { raw: { width: w, height: h, channels: 1 } }).toColourspace('srgb').png().toFile(f16);
  assert.equal(decodeIndexedPng(await sharp(f16).toBuffer()), undefined, 'the fixture really is an RGB PNG');
  assert.deepEqual([...(await decodeLabel(f16)).data], [...data]);
});

test('palette PNGs decode to class indices, also when written by another encoder with fewer bits', async () => {
  const dir = tmpDir('codec');
  const w = 9;
  const h = 5;
  const label = Uint8Array.from({ length: w * h }, (_, i) => [0, 1, 15, 255][i % 4] as number);
  const file = path.join(dir, 'pal.png');
  writeFileSync(file, encodeIndexedPng(w, h, label, vocPalette()));
  assert.deepEqual([...(await decodeLabel(file)).data], [...label]);
  // sharp writes a palette PNG with its own palette order and bit depth: decodeIndexedPng gives that
  // file's indices, and sharp itself expands it to the VOC colours.
  const rgb = new Uint8Array(w * h * 3);
  const pal = vocPalette();
  label.forEach((l, i) => rgb.set(pal.subarray(l * 3, l * 3 + 3), i * 3));
  const rgbFile = path.join(dir, 'rgb.png');
  await sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } }).png().toFile(rgbFile);
  assert.deepEqual([...(await decodeLabel(rgbFile, labelColourLookup(pal))).data], [...label], 'RGB colour label mapped through the colours the data set gives (VOC palette)');
  await assert.rejects(decodeLabel(rgbFile), (e: unknown) => e instanceof BadSampleError && /colour label, and the data set defines no label colours/.test(e.problem));
  // A colour outside the palette is a bad label.
  rgb[0] = 1;
  rgb[1] = 2;
  rgb[2] = 3;
  await sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } }).png().toFile(rgbFile);
  await assert.rejects(decodeLabel(rgbFile, labelColourLookup(pal)), (e: unknown) => e instanceof BadSampleError && /not one of the data set's label colours/.test(e.problem));
});

test('decodeRgb reads JPEGs; missing and corrupt files are BadSampleErrors naming the file', async () => {
  const dir = tmpDir('codec');
  const w = 16;
  const h = 8;
  const rgb = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) rgb.set([200, 40, 90], i * 3);
  const file = path.join(dir, 'a.jpg');
  const jpg = await encodeJpeg(w, h, rgb, 95);
  writeFileSync(file, jpg);
  const img = await decodeRgb(file);
  assert.equal(img.width, w);
  assert.equal(img.height, h);
  assert.ok(Math.abs((img.data[0] as number) - 200) < 6 && Math.abs((img.data[1] as number) - 40) < 6);
  await assert.rejects(decodeRgb(path.join(dir, 'nope.jpg')), (e: unknown) => e instanceof BadSampleError && e.code === 'data.missing-file' && e.file.endsWith('nope.jpg'));
  const broken = path.join(dir, 'broken.jpg');
  writeFileSync(broken, jpg.subarray(0, Math.floor(jpg.length / 2)));
  await assert.rejects(decodeRgb(broken), (e: unknown) => e instanceof BadSampleError && e.code === 'data.corrupt-image' && e.file === broken);
  const garbage = path.join(dir, 'garbage.jpg');
  writeFileSync(garbage, Buffer.from('this is not an image'));
  await assert.rejects(decodeRgb(garbage), (e: unknown) => e instanceof BadSampleError && e.code === 'data.corrupt-image');
});

test('a truncated or damaged label PNG is a corrupt-label BadSampleError', async () => {
  const dir = tmpDir('codec');
  const png = encodeIndexedPng(20, 20, Uint8Array.from({ length: 400 }, (_, i) => i % 21));
  const cut = path.join(dir, 'cut.png');
  writeFileSync(cut, png.subarray(0, png.length - 30));
  await assert.rejects(decodeLabel(cut), (e: unknown) => e instanceof BadSampleError && e.code === 'data.corrupt-label' && e.file === cut);
  const flipped = Buffer.from(png);
  flipped[flipped.length - 20] ^= 0xff; // inside the compressed data
  const bad = path.join(dir, 'bad.png');
  writeFileSync(bad, flipped);
  await assert.rejects(decodeLabel(bad), (e: unknown) => e instanceof BadSampleError && e.code === 'data.corrupt-label');
});
