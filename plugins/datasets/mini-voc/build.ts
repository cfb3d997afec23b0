/**
 * `ablate data mini-voc`: writes mini-VOC in exactly the VOC2012-aug layout that the `voc` plugin
 * reads (and that the real data set has):
 *
 *   JPEGImages/<id>.jpg                      RGB images
 *   SegmentationClassAug/<id>.png            8-bit class indices, 255 = void
 *   SegmentationClass/<id>.png               the same labels as VOC palette PNGs
 *   ImageSets/Segmentation/train_aug.txt     training ids
 *   ImageSets/Segmentation/val.txt           evaluation ids
 *   mini-voc.json                            how it was built, class names and pixel frequencies
 *
 * Every image is a pure function of (seed, split, index), so a seed gives the same files.
 */
import { mkdirSync, readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { AblateError, SeededRng, encodeIndexedPng, encodeJpeg, mixSeed, type Logger } from '../../../src/index.js';
import { vocPalette } from '../voc-palette.js';
import { compose, COMPOSE_LEGACY, type ComposeOptions } from './compose.js';
import { loadGlyphPools, MINI_VOC_CLASSES } from './glyphs.js';

/** The builder's options: how each image is drawn (ComposeOptions), and what is written where. */
export interface MiniVocBuildOptions extends ComposeOptions {
  out: string;
  train: number;
  val: number;
  seed: number;
  jpeg_quality: number;
  overwrite: boolean;
}

export const MINI_VOC_BUILD_DEFAULTS: Omit<MiniVocBuildOptions, 'out'> = {
  size: 64,
  // More training images show the network more distinct shapes (800 per class in the pool); at 1/8
  // of them the labels still limit it (docs/results/mini-voc-probes.md).
  train: 6000,
  val: 300,
  seed: 0,
  // Objects large and bold enough for the stride-8 score map (8×8 at 64 px) to outline them, and
  // few enough that they rarely hide each other; COMPOSE_LEGACY and 2–4 objects at 0.35–0.8 with
  // noise 14 and 2000 training images draw the first recipe's images (docs/results/mini-voc-probes.md).
  min_objects: 1,
  max_objects: 3,
  min_scale: 0.5,
  max_scale: 0.9,
  noise: 8,
  min_clutter: 0,
  max_clutter: 3,
  digit_stroke: 1.5,
  max_overlap: 0.3,
  max_outside: 0.15,
  max_rotation: 0,
  max_shear: 0,
  jpeg_quality: 90,
  overwrite: false,
};

export interface MiniVocStats {
  /** Per class name: fraction of non-void training pixels. */
  frequencies: Record<string, number>;
  void_fraction: number;
  seconds: number;
  train: number;
  val: number;
}

const MANIFEST = 'mini-voc.json';

/** The build parameters that determine the files (everything but where and whether to overwrite). */
function recipe(o: MiniVocBuildOptions) {
  const { out: _out, overwrite: _overwrite, ...rest } = o;
  return { format: 'mini-voc/1', ...rest };
}

/** The options that shape one image. */
export function composeOptions(o: Omit<MiniVocBuildOptions, 'out' | 'overwrite'>): ComposeOptions {
  const { size, min_objects, max_objects, min_scale, max_scale, noise, min_clutter, max_clutter, digit_stroke, max_overlap, max_outside, max_rotation, max_shear } = o;
  return { size, min_objects, max_objects, min_scale, max_scale, noise, min_clutter, max_clutter, digit_stroke, max_overlap, max_outside, max_rotation, max_shear };
}

/** True when `out` holds a complete mini-VOC built with these parameters. */
export function isBuilt(o: MiniVocBuildOptions): boolean {
  const file = path.join(o.out, MANIFEST);
  if (!existsSync(file)) return false;
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as { recipe?: Record<string, unknown> };
    // Builds made before the clutter/stroke/overlap/border/warp options were drawn with COMPOSE_LEGACY's values of them.
    const stored: Record<string, unknown> = { ...COMPOSE_LEGACY, ...m.recipe };
    const wanted: Record<string, unknown> = recipe(o);
    const keys = new Set([...Object.keys(stored), ...Object.keys(wanted)]);
    return [...keys].every((k) => JSON.stringify(stored[k]) === JSON.stringify(wanted[k]));
  } catch {
    return false;
  }
}

/** Rejects ranges whose minimum is above their maximum. */
export function checkBuildOptions(o: Omit<MiniVocBuildOptions, 'out' | 'overwrite'>): void {
  if (o.min_objects > o.max_objects) throw new AblateError('data.bad-option', `min_objects (${o.min_objects}) is larger than max_objects (${o.max_objects})`);
  if (o.min_clutter > o.max_clutter) throw new AblateError('data.bad-option', `min_clutter (${o.min_clutter}) is larger than max_clutter (${o.max_clutter})`);
  if (o.min_scale > o.max_scale) throw new AblateError('data.bad-option', `min_scale (${o.min_scale}) is larger than max_scale (${o.max_scale})`);
}

export async function buildMiniVoc(o: MiniVocBuildOptions, log: Logger): Promise<MiniVocStats> {
  const t0 = performance.now();
  checkBuildOptions(o);
  if (existsSync(o.out) && readdirSync(o.out).length > 0 && !o.overwrite && !existsSync(path.join(o.out, MANIFEST))) {
    throw new AblateError('data.out-not-empty', `${o.out} exists, is not empty and is not a mini-VOC folder`, { hint: 'Choose another --out, or pass --overwrite.' });
  }
  const dirs = ['JPEGImages', 'SegmentationClassAug', 'SegmentationClass', path.join('ImageSets', 'Segmentation')];
  for (const d of dirs) mkdirSync(path.join(o.out, d), { recursive: true });

  // Enough shapes that objects rarely repeat; evaluation shapes are disjoint from training ones.
  const pools = loadGlyphPools(800, 200);
  log.info(`mini-voc: loaded shapes in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const palette = vocPalette();
  const composeOpts = composeOptions(o);
  // Warping is a training-set option: evaluation images are drawn without it, so every build with
  // the same seed and drawing evaluates on the very same images, warped training shapes or not.
  const evalOpts = { ...composeOpts, max_rotation: 0, max_shear: 0 };
  const counts = new Float64Array(256);

  const splits = [
    { name: 'train', n: o.train, list: 'train_aug.txt', pools: pools.train, salt: 1, drawing: composeOpts },
    { name: 'val', n: o.val, list: 'val.txt', pools: pools.val, salt: 2, drawing: evalOpts },
  ];
  for (const split of splits) {
    const ids: string[] = [];
    const pendingWrites: Promise<void>[] = [];
    for (let i = 0; i < split.n; i++) {
      const id = `${split.name}_${String(i).padStart(6, '0')}`;
      ids.push(id);
      const rng = new SeededRng(mixSeed(o.seed, split.salt, i));
      const { rgb, label } = compose(rng, split.drawing, split.pools);
      if (split.name === 'train') for (let j = 0; j < label.length; j++) counts[label[j] as number] = (counts[label[j] as number] as number) + 1;
      writeFileSync(path.join(o.out, 'SegmentationClassAug', `${id}.png`), encodeIndexedPng(o.size, o.size, label));
      writeFileSync(path.join(o.out, 'SegmentationClass', `${id}.png`), encodeIndexedPng(o.size, o.size, label, palette));
      pendingWrites.push(encodeJpeg(o.size, o.size, rgb, o.jpeg_quality).then((buf) => writeFileSync(path.join(o.out, 'JPEGImages', `${id}.jpg`), buf)));
      if (pendingWrites.length >= 32) await Promise.all(pendingWrites.splice(0));
    }
    await Promise.all(pendingWrites);
    writeFileSync(path.join(o.out, 'ImageSets', 'Segmentation', split.list), `${ids.join('\n')}\n`);
  }

  const total = counts.reduce((a, b) => a + b, 0);
  const valid = total - (counts[255] as number);
  const frequencies: Record<string, number> = {};
  MINI_VOC_CLASSES.forEach((name, c) => (frequencies[name] = valid > 0 ? (counts[c] as number) / valid : 0));
  const stats: MiniVocStats = { frequencies, void_fraction: total > 0 ? (counts[255] as number) / total : 0, seconds: (performance.now() - t0) / 1000, train: o.train, val: o.val };
  writeFileSync(
    path.join(o.out, MANIFEST),
    `${JSON.stringify({ recipe: recipe(o), classes: MINI_VOC_CLASSES, train_pixel_frequencies: frequencies, void_fraction: stats.void_fraction }, null, 1)}\n`,
  );
  return stats;
}

/** The class pixel frequency table printed after a build. */
export function formatStats(s: MiniVocStats): string {
  const lines = [`class pixel frequencies (training set, void excluded; void = ${(s.void_fraction * 100).toFixed(2)}% of all pixels):`];
  for (const [name, f] of Object.entries(s.frequencies)) lines.push(`  ${name.padEnd(12)} ${(f * 100).toFixed(2).padStart(6)}%`);
  return lines.join('\n');
}
