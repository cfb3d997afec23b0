import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SeededRng, cropPrediction, type Sample } from '../../src/index.js';
import { randomScale, drawScale } from '../../plugins/transforms/random-scale.js';
import { randomCrop } from '../../plugins/transforms/random-crop.js';
import { mirror } from '../../plugins/transforms/mirror.js';
import { normalize, meanAsRgb } from '../../plugins/transforms/normalize.js';
import { pad } from '../../plugins/transforms/pad.js';
import { resize } from '../../plugins/transforms/resize.js';

/** A sample whose red channel is 10·label (void pixels red 250): any misalignment shows. */
function blockSample(h: number, w: number, block = 6): Sample {
  const label = new Uint8Array(h * w);
  const image = new Float32Array(h * w * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      const l = (Math.floor(y / block) * 7 + Math.floor(x / block) * 3) % 21;
      label[i] = l;
      image[i * 3] = l * 10;
      image[i * 3 + 1] = y; // position, to check geometry
      image[i * 3 + 2] = x;
    }
  }
  return { id: 's', height: h, width: w, image, label };
}

/**
 * After a resize from src: every output label must be one of the labels of the 2×2 source pixels
 * the bilinear image blended at that pixel (half-pixel centres), i.e. label and image agree.
 */
function resizedConsistently(src: Sample, out: Sample): boolean {
  const sy = src.height / out.height;
  const sx = src.width / out.width;
  for (let y = 0; y < out.height; y++) {
    const fy = Math.min(Math.max((y + 0.5) * sy - 0.5, 0), src.height - 1);
    for (let x = 0; x < out.width; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sx - 0.5, 0), src.width - 1);
      const cands = new Set<number>();
      for (const yy of [Math.floor(fy), Math.min(Math.floor(fy) + 1, src.height - 1)]) {
        for (const xx of [Math.floor(fx), Math.min(Math.floor(fx) + 1, src.width - 1)]) cands.add(src.label?.[yy * src.width + xx] as number);
      }
      if (!cands.has(out.label?.[y * out.width + x] as number)) return false;
    }
  }
  return true;
}

/** Fraction of labeled (non-void) pixels whose red value matches their label. */
function aligned(s: Sample, tol = 0.5): number {
  let ok = 0;
  let n = 0;
  for (let i = 0; i < s.height * s.width; i++) {
    const l = s.label?.[i] as number;
    if (l === 255) continue;
    n++;
    if (Math.abs((s.image[i * 3] as number) - l * 10) <= tol) ok++;
  }
  return n === 0 ? 1 : ok / n;
}

test('random_scale draws the reference discrete factors and keeps label aligned (nearest) with image (bilinear)', () => {
  const rng = new SeededRng(1);
  const seen = new Set<string>();
  for (let i = 0; i < 2000; i++) seen.add(drawScale({ min: 0.5, max: 1.6, steps: 12 }, rng).toFixed(6));
  assert.deepEqual([...seen].sort(), Array.from({ length: 12 }, (_, k) => (0.5 + k / 10).toFixed(6)).sort());
  for (let i = 0; i < 200; i++) {
    const f = drawScale({ min: 0.7, max: 1.3, steps: null }, rng);
    assert.ok(f >= 0.7 && f < 1.3);
  }
  const s = blockSample(30, 42);
  const t = randomScale({ min: 0.5, max: 1.6, steps: 12, min_size: null, retries: 1 });
  for (let k = 0; k < 10; k++) {
    const out = t.apply(s, new SeededRng(k));
    const f = out.height / s.height;
    assert.equal(out.width, Math.round(42 * f));
    assert.equal(out.label?.length, out.height * out.width);
    assert.ok(resizedConsistently(s, out), `scale ${f}: label not aligned with the image`);
    assert.ok(aligned(out) > 0.6, `scale ${f}: only ${aligned(out)} unblended and aligned`);
    assert.ok([...(out.label as Uint8Array)].every((v) => (s.label as Uint8Array).includes(v)), 'nearest never invents label values');
  }
});

test('random_scale with min_size redraws until the sample covers it, else resizes to it', () => {
  const small = blockSample(10, 10);
  const t = randomScale({ min: 0.5, max: 1.6, steps: 12, min_size: 12, retries: 10 });
  for (let k = 0; k < 20; k++) {
    const out = t.apply(small, new SeededRng(k));
    assert.ok(out.height >= 12 && out.width >= 12, `${out.height}×${out.width}`);
  }
  const never = randomScale({ min: 0.5, max: 0.6, steps: 2, min_size: [12, 12], retries: 10 }).apply(small, new SeededRng(0));
  assert.deepEqual([never.height, never.width], [12, 12]);
});

test('random_crop pads bottom/right (image with the fill colour, label with 255), then crops an aligned window anywhere', () => {
  const s = blockSample(20, 26);
  const t = randomCrop({ size: [16, 16], pad_fill: [1, 2, 3], ignore_index: 255 });
  const tops = new Set<number>();
  for (let k = 0; k < 200; k++) {
    const out = t.apply(s, new SeededRng(k));
    assert.deepEqual([out.height, out.width], [16, 16]);
    assert.equal(aligned(out), 1);
    const top = out.image[1] as number; // green = source row
    const left = out.image[2] as number;
    tops.add(top);
    for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) assert.equal(out.image[(y * 16 + x) * 3 + 1], top + y);
    assert.ok(left >= 0 && left <= 10);
  }
  assert.equal(tops.size, 5, 'every vertical offset 0..4 is drawn');
  // Smaller than the crop: padding.
  const tiny = blockSample(5, 7);
  const out = randomCrop({ size: 8, pad_fill: [11, 22, 33], ignore_index: 255 }).apply(tiny, new SeededRng(3));
  assert.deepEqual([out.height, out.width], [8, 8]);
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      const i = y * 8 + x;
      if (y >= 5 || x >= 7) {
        assert.equal(out.label?.[i], 255);
        assert.deepEqual([...out.image.subarray(i * 3, i * 3 + 3)], [11, 22, 33]);
      } else assert.equal(out.label?.[i], tiny.label?.[y * 7 + x]);
    }
  }
});

test('mirror flips image and label together with the given probability', () => {
  const s = blockSample(9, 11);
  const before = Uint8Array.from(s.label as Uint8Array);
  const flipped = mirror(1).apply(s, new SeededRng(0));
  assert.deepEqual(s.label, before, 'the input sample is left untouched');
  assert.equal(aligned(flipped), 1);
  for (let y = 0; y < 9; y++) for (let x = 0; x < 11; x++) assert.equal(flipped.label?.[y * 11 + x], s.label?.[y * 11 + (10 - x)]);
  assert.equal(flipped.image[2], 10, 'column 0 now holds source column 10');
  assert.deepEqual(mirror(1).apply(flipped, new SeededRng(0)).image, s.image);
  assert.equal(mirror(0).apply(s, new SeededRng(0)), s);
  let flips = 0;
  const rng = new SeededRng(5);
  for (let i = 0; i < 1000; i++) if (mirror(0.5).apply(s, rng) !== s) flips++;
  assert.ok(flips > 430 && flips < 570, `${flips} flips`);
});

test('normalize subtracts the mean and divides by the std in the requested channel order', () => {
  const s: Sample = { id: 'n', height: 1, width: 1, image: Float32Array.from([200, 100, 50]) };
  assert.deepEqual([...normalize({ mean: [10, 20, 30], std: [2, 4, 5], order: 'rgb' }).apply(s).image], [95, 20, 4]);
  // bgr: channels reversed first, mean listed in bgr order.
  assert.deepEqual([...normalize({ mean: [10, 20, 30], std: [1, 1, 1], order: 'bgr' }).apply(s).image], [40, 80, 170]);
  assert.deepEqual(meanAsRgb({ mean: [104, 117, 123], std: [1, 1, 1], order: 'bgr' }), [123, 117, 104]);
});

test('evaluation path: pad to a size, then crop predictions back to the original', () => {
  const s = blockSample(7, 9);
  const padded = pad({ size: 12, fill: [5, 5, 5], ignore_index: 255 }).apply(s);
  assert.deepEqual([padded.height, padded.width], [12, 12]);
  assert.equal(aligned(padded), 1);
  // A "prediction" of the padded image: its label map (and 2-channel logits) cropped back.
  const pred = Int32Array.from(padded.label as Uint8Array);
  assert.deepEqual([...cropPrediction(pred, 12, 7, 9)], [...(s.label as Uint8Array)]);
  const logits = new Float32Array(12 * 12 * 2).map((_, i) => i);
  const back = cropPrediction(logits, 12, 7, 9, 2);
  assert.equal(back.length, 7 * 9 * 2);
  assert.equal(back[(1 * 9 + 3) * 2 + 1], (1 * 12 + 3) * 2 + 1);
  // Larger than the pad size: left alone.
  assert.equal(pad({ size: 4, fill: [0, 0, 0], ignore_index: 255 }).apply(s), s);
});

test('resize hits the size (optionally only for smaller samples) and keeps alignment', () => {
  const s = blockSample(24, 36);
  const out = resize({ size: [12, 18], only_if_smaller: false }).apply(s);
  assert.deepEqual([out.height, out.width], [12, 18]);
  assert.ok(resizedConsistently(s, out));
  assert.equal(resize({ size: [12, 18], only_if_smaller: true }).apply(s), s);
  assert.deepEqual([resize({ size: 30, only_if_smaller: true }).apply(s).height], [30]);
});

test('the fused scale+crop of the standard pipeline equals random_scale then random_crop, pixel for pixel', async () => {
  const { randomScaleCrop } = await import('../../plugins/transforms/random-crop.js');
  const s = blockSample(23, 31);
  const scale = { min: 0.5, max: 1.6, steps: 12 };
  const crop = { size: [20, 24] as [number, number], pad_fill: [7, 8, 9], ignore_index: 255 };
  for (let k = 0; k < 30; k++) {
    const sep = randomCrop(crop).apply(randomScale({ ...scale, min_size: null, retries: 1 }).apply(s, new SeededRng(k)), new SeededRng(k + 1000));
    // Same draws: the separate version used two generators, so replay them in one for the fused one.
    const a = new SeededRng(k);
    const b = new SeededRng(k + 1000);
    let calls = 0;
    const replay = { next: () => (calls++ === 0 ? a.next() : b.next()), int: (lo: number, hi: number) => (calls++ === 0 ? a.int(lo, hi) : b.int(lo, hi)) };
    const fused = randomScaleCrop(scale, crop).apply(s, replay);
    assert.deepEqual([fused.height, fused.width], [20, 24]);
    assert.deepEqual(fused.label, sep.label, `labels differ for draw ${k}`);
    for (let i = 0; i < fused.image.length; i++) assert.ok(Math.abs((fused.image[i] as number) - (sep.image[i] as number)) < 1e-3, `pixel ${i} differs for draw ${k}`);
  }
});
