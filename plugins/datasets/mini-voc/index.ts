/**
 * `mini-voc`: the embedded data set. The `voc` plugin's reader with mini-VOC defaults (root
 * `data/mini-voc`, 64×64 images, decoded images cached), which builds the data on first use when
 * the root has none, plus the `ablate data mini-voc` tool.
 */
import { existsSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { definePlugin, type Logger } from '../../../src/index.js';
import { buildFileDataset, pipelineProperties, resolvePath, withDefaults } from '../common.js';
import { VOC_DEFAULTS, vocFiles, vocLayoutProperties, type VocOptions } from '../voc.js';
import { buildMiniVoc, formatStats, isBuilt, MINI_VOC_BUILD_DEFAULTS, type MiniVocBuildOptions } from './build.js';
import { MINI_VOC_CLASSES } from './glyphs.js';
import { vocPalette } from '../voc-palette.js';

export interface MiniVocOptions extends VocOptions {
  build_if_missing: boolean;
  build: Partial<Omit<MiniVocBuildOptions, 'out' | 'overwrite'>>;
}

export const MINI_VOC_DEFAULTS: MiniVocOptions = {
  ...VOC_DEFAULTS,
  root: 'data/mini-voc',
  crop: 64,
  eval_pad: 64,
  cache: true,
  prefetch: 4,
  build_if_missing: true,
  build: {},
};

const buildOptionsSchema = {
  type: 'object',
  properties: {
    out: { type: 'string', description: 'Folder to write (created if needed).' },
    size: { type: 'integer', minimum: 16, default: MINI_VOC_BUILD_DEFAULTS.size, description: 'Image side in pixels.' },
    train: { type: 'integer', minimum: 1, default: MINI_VOC_BUILD_DEFAULTS.train, description: 'Training images (train_aug.txt).' },
    val: { type: 'integer', minimum: 1, default: MINI_VOC_BUILD_DEFAULTS.val, description: 'Evaluation images (val.txt).' },
    seed: { type: 'integer', minimum: 0, default: MINI_VOC_BUILD_DEFAULTS.seed, description: 'Seed: the same seed writes the same files.' },
    min_objects: { type: 'integer', minimum: 0, default: MINI_VOC_BUILD_DEFAULTS.min_objects, description: 'Fewest objects per image.' },
    max_objects: { type: 'integer', minimum: 1, default: MINI_VOC_BUILD_DEFAULTS.max_objects, description: 'Most objects per image.' },
    min_scale: { type: 'number', exclusiveMinimum: 0, default: MINI_VOC_BUILD_DEFAULTS.min_scale, description: 'Smallest object side, as a fraction of the image side.' },
    max_scale: { type: 'number', exclusiveMinimum: 0, default: MINI_VOC_BUILD_DEFAULTS.max_scale, description: 'Largest object side, as a fraction of the image side.' },
    noise: { type: 'number', minimum: 0, default: MINI_VOC_BUILD_DEFAULTS.noise, description: 'Largest per-pixel Gaussian noise std (0–255 units).' },
    min_clutter: { type: 'integer', minimum: 0, default: MINI_VOC_BUILD_DEFAULTS.min_clutter, description: 'Fewest background clutter items (strokes and blobs, labeled background) per image.' },
    max_clutter: { type: 'integer', minimum: 0, default: MINI_VOC_BUILD_DEFAULTS.max_clutter, description: 'Most background clutter items per image.' },
    digit_stroke: { type: 'number', minimum: 0, maximum: 4, default: MINI_VOC_BUILD_DEFAULTS.digit_stroke, description: 'Thickens the digits: dilation radius in pixels of the 28-px glyph (0 = MNIST strokes).' },
    max_overlap: { type: 'number', minimum: 0, maximum: 1, default: MINI_VOC_BUILD_DEFAULTS.max_overlap, description: 'Largest share of an object\'s box that earlier objects may cover (positions are retried; 1 = any).' },
    max_outside: { type: 'number', minimum: 0, maximum: 0.9, default: MINI_VOC_BUILD_DEFAULTS.max_outside, description: 'Largest share of an object\'s side that may lie outside the image.' },
    // No schema default (absent means 0): a default would enter every resolved config and change
    // the run identity of every mini-VOC experiment made before the option existed.
    max_rotation: { type: 'number', minimum: 0, maximum: 45, description: 'Rotates each training object\'s shape by up to ± this many degrees (absent or 0: as in the pool); evaluation images are never warped.' },
    max_shear: { type: 'number', minimum: 0, maximum: 0.5, description: 'Shears each training object\'s shape by up to ± this factor (absent or 0: as in the pool); evaluation images are never warped.' },
    jpeg_quality: { type: 'integer', minimum: 1, maximum: 100, default: MINI_VOC_BUILD_DEFAULTS.jpeg_quality, description: 'JPEG quality of the images.' },
    overwrite: { type: 'boolean', default: false, description: 'Write into a non-empty folder that is not a mini-VOC build.' },
  },
  required: ['out'],
  additionalProperties: false,
};

export async function runMiniVocTool(options: Partial<MiniVocBuildOptions> & { out: string }, log: Logger): Promise<void> {
  const o = withDefaults<MiniVocBuildOptions>(options, { ...MINI_VOC_BUILD_DEFAULTS, out: options.out });
  if (!o.overwrite && isBuilt(o)) {
    log.info(`mini-voc: ${o.out} already holds this build (same options and seed); nothing to do (--overwrite rebuilds it)`);
    return;
  }
  log.info(`mini-voc: writing ${o.train} training and ${o.val} evaluation images of ${o.size}×${o.size} (seed ${o.seed}) to ${o.out}`);
  const stats = await buildMiniVoc(o, log);
  log.info(formatStats(stats));
  log.info(`mini-voc: done in ${stats.seconds.toFixed(1)} s`);
}

/**
 * Builds into a private sibling folder and renames it into place, so parallel sweep cells that all
 * find the data missing never read a half-written folder; the first rename wins.
 */
async function buildAtomically(o: MiniVocBuildOptions, log: Logger): Promise<void> {
  if (existsSync(o.out)) return runMiniVocTool(o, log); // an existing (empty) folder: build in place
  const tmp = `${o.out}.building-${process.pid}`;
  await runMiniVocTool({ ...o, out: tmp, overwrite: true }, log);
  try {
    renameSync(tmp, o.out);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another process finished first
  }
}

export const miniVocDataset = definePlugin<'dataset', Partial<MiniVocOptions>>({
  kind: 'dataset',
  type: 'mini-voc',
  description: 'The embedded mini-VOC (MNIST digits and Fashion-MNIST garments on textured backgrounds, 21 classes) in the VOC-aug layout; built on first use.',
  options: {
    type: 'object',
    properties: {
      ...vocLayoutProperties(MINI_VOC_DEFAULTS),
      ...pipelineProperties(MINI_VOC_DEFAULTS),
      build_if_missing: { type: 'boolean', default: true, description: 'Build mini-VOC into `root` (with `build` options) when its training list is missing.' },
      build: {
        type: 'object',
        default: {},
        description: 'Builder options used by build_if_missing (same as `ablate data mini-voc` flags).',
        properties: Object.fromEntries(Object.entries(buildOptionsSchema.properties).filter(([k]) => k !== 'out' && k !== 'overwrite')),
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const o = withDefaults(options, MINI_VOC_DEFAULTS);
    const root = resolvePath(ctx, o.root);
    const trainList = path.isAbsolute(o.train_list) ? o.train_list : path.join(root, o.train_list);
    const buildOpts: MiniVocBuildOptions = { ...MINI_VOC_BUILD_DEFAULTS, ...o.build, out: root, overwrite: false };
    if (o.build_if_missing && !existsSync(trainList)) {
      ctx.log.info(`mini-voc: no data at ${root}; building it now`);
      await buildAtomically(buildOpts, ctx.log);
    } else if (existsSync(path.join(root, 'mini-voc.json')) && !isBuilt(buildOpts)) {
      ctx.log.warn(`mini-voc: ${root} was built with other options than dataset.build; using it as it is (delete the folder to rebuild)`);
    }
    const files = await vocFiles({ ...o, root }, ctx.baseDir);
    return buildFileDataset(o, ctx, { ...files, numClasses: 21, classNames: MINI_VOC_CLASSES, labelColours: vocPalette(), classColours: vocPalette(), name: 'mini-voc' });
  },
  tool: {
    description: 'Writes mini-VOC in the VOC2012-aug layout (JPEGImages, SegmentationClassAug, SegmentationClass, ImageSets/Segmentation) and prints the class pixel frequencies.',
    options: buildOptionsSchema,
    run: (options, log) => runMiniVocTool(options as Partial<MiniVocBuildOptions> & { out: string }, log),
  },
});
