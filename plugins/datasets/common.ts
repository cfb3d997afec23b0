/**
 * What the file-based datasets (`voc`, `mini-voc`, `cityscapes`) share: the option schema of the
 * standard pipeline, the partition on first use, file checks, and assembling the transforms.
 *
 * The standard pipeline is a set of dataset-level knobs, one line each, so an ablation diff reads
 * as what changed (`normalize: null`, `drop_last: true`, `mirror: true`, `scale: {...}`, `crop: 321`)
 * instead of a replaced transform list. The order is fixed and matches the reference:
 *   resize → scale → crop (pad with the mean colour / ignore) → mirror → `transforms` → normalize.
 * `transforms:` is an optional list of extra transform components (your own plugins included),
 * applied to the training streams after mirror and before normalisation.
 */
import { createHash } from 'node:crypto';
import { existsSync, copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import {
  AblateError,
  FileSegmentationDataset,
  componentSchema,
  type BuildContext,
  type ComponentConfig,
  type DatasetInput,
  type FileEntry,
  type JsonSchema,
  type Transform,
} from '../../src/index.js';
import { readPartitionFile, splitIds, writePartitionFile } from './partition.js';
import { meanAsRgb, normalize, type NormalizeOptions } from '../transforms/normalize.js';
import { randomScale } from '../transforms/random-scale.js';
import { randomCrop, randomScaleCrop } from '../transforms/random-crop.js';
import { mirror as mirrorT } from '../transforms/mirror.js';
import { resize as resizeT } from '../transforms/resize.js';
import { toHW, type Size } from '../transforms/common.js';

export interface ScaleOptions {
  min: number;
  max: number;
  steps: number | null;
}

export interface PipelineOptions {
  labeled_fraction: number;
  split_seed: number;
  partition_file: string | null;
  drop_last: boolean;
  on_bad_sample: 'error' | 'skip';
  resize: Size | null;
  scale: ScaleOptions | null;
  crop: Size | null;
  mirror: boolean;
  normalize: NormalizeOptions | null;
  transforms: ComponentConfig[];
  eval_pad: Size | null;
  ground_truth_padding: boolean;
  prefetch: number;
  cache: boolean;
}

/** The released AdvSemiSeg code's input: BGR mean subtracted, then fed as RGB (Hung et al.'s released train.py, IMG_MEAN). */
export const REFERENCE_NORMALIZE: NormalizeOptions = { mean: [122.67891434, 116.66876762, 104.00698793], std: [1, 1, 1], order: 'rgb' };

const sizeOrNull = (description: string, dflt: Size | null): JsonSchema => ({
  description,
  default: dflt,
  oneOf: [{ type: 'null' }, { type: 'integer', minimum: 1 }, { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 2 }],
});

/** Schema properties of the standard pipeline, with per-dataset defaults. */
export function pipelineProperties(d: PipelineOptions): Record<string, JsonSchema> {
  return {
    labeled_fraction: {
      type: 'number',
      exclusiveMinimum: 0,
      maximum: 1,
      default: d.labeled_fraction,
      description: 'Fraction f of the training list that is labeled: floor(f·N) ids of a seeded shuffle (VOC-aug: 1/8 → 1322, 1/4 → 2645, 1/2 → 5291 of 10582); the rest is the unlabeled set.',
    },
    split_seed: { type: 'integer', minimum: 0, default: d.split_seed, description: 'Seed of the labeled/unlabeled shuffle; fixed by default so runs with different seeds share one split.' },
    partition_file: {
      type: ['string', 'null'],
      format: 'path',
      default: d.partition_file,
      description: 'A partition.json written by an earlier run (into its run folder): reused exactly, ignoring labeled_fraction and split_seed; relative to the config file that sets it. null = split now and write partition.json into the run folder.',
    },
    drop_last: { type: 'boolean', default: d.drop_last, description: 'Drop the last incomplete batch of each epoch (base-101: true; the reference: false).' },
    on_bad_sample: {
      enum: ['error', 'skip'],
      default: d.on_bad_sample,
      description: 'A missing, corrupt or inconsistent image/label: stop with an error naming the file, or skip it with a warning and count it in the run metrics.',
    },
    resize: sizeOrNull('Resize every image and label to this size first (one number or [height, width]); Cityscapes in the paper: [512, 1024]. null = keep the stored size.', d.resize),
    scale: {
      description: 'Random rescaling before the crop: factor in [min, max], continuous or `steps` evenly spaced values (the reference --random-scale: {min: 0.5, max: 1.6, steps: 12}). null = off (the reference command).',
      default: d.scale,
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            min: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'Smallest factor.' },
            max: { type: 'number', exclusiveMinimum: 0, default: 1.5, description: 'Largest factor.' },
            steps: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Number of evenly spaced factors; null = continuous.' },
          },
          required: ['min', 'max'],
          additionalProperties: false,
        },
      ],
    },
    crop: sizeOrNull('Random training crop (one number or [height, width]); smaller samples are padded bottom/right, the image with the mean colour and the label with 255. null = no crop (every sample must then have the same size).', d.crop),
    mirror: { type: 'boolean', default: d.mirror, description: 'Random horizontal flip with p = 0.5 (the reference --random-mirror; off in its README command).' },
    normalize: {
      description:
        'Input normalisation in 0–255 units, mean/std listed in `order` (the channel order fed to the network). Default: the released code (BGR mean subtracted, fed as RGB). null = raw 0–255 RGB, no normalisation at all. The seed repository base-101 "no input normalisation" was ToTensor (RGB in 0–1): {mean: [0, 0, 0], std: [255, 255, 255], order: rgb}. ImageNet: {mean: [123.675, 116.28, 103.53], std: [58.395, 57.12, 57.375], order: rgb}.',
      default: d.normalize,
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          properties: {
            mean: { type: 'array', items: { type: 'number' }, minItems: 3, maxItems: 3, description: 'Per-channel mean, in `order`.' },
            std: { type: 'array', items: { type: 'number', exclusiveMinimum: 0 }, minItems: 3, maxItems: 3, default: [1, 1, 1], description: 'Per-channel std, in `order`.' },
            order: { enum: ['rgb', 'bgr'], default: 'rgb', description: 'Channel order fed to the network.' },
          },
          required: ['mean'],
          additionalProperties: false,
        },
      ],
    },
    transforms: {
      type: 'array',
      items: componentSchema('transform'),
      default: d.transforms,
      description: 'Extra transform components for the training streams, applied after mirror and before normalize (e.g. your own plugins).',
    },
    eval_pad: sizeOrNull('Evaluation pads each whole image bottom/right to this size (mean colour, label 255) and crops predictions back to the original size (the reference: 505). null = no padding.', d.eval_pad),
    ground_truth_padding: {
      type: 'boolean',
      default: d.ground_truth_padding,
      description:
        "For streams a trainer asks to be unpadded (the adversarial trainers' ground-truth stream for the discriminator). false (the reference): such a stream rescales each sample until it covers the crop (or resizes to it), so its label maps carry no padding. true: the same pipeline as every other stream.",
    },
    prefetch: { type: 'integer', minimum: 1, default: d.prefetch, description: 'Batches decoded and augmented ahead of training, per stream.' },
    cache: { type: 'boolean', default: d.cache, description: 'Keep decoded images in memory after first use (small data sets).' },
  };
}

/** Fills in defaults that a caller (a test, a nested build) may have left out. */
export function withDefaults<T extends object>(options: Partial<T>, defaults: T): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(options)) if (v !== undefined) out[k] = v;
  return out as T;
}

export function resolvePath(ctx: Pick<BuildContext, 'baseDir'>, p: string): string {
  return path.isAbsolute(p) ? p : path.resolve(ctx.baseDir, p);
}

/** Drops (skip) or reports (error) entries whose files are missing. */
export function checkFilesExist(entries: FileEntry[], policy: 'error' | 'skip', ctx: Pick<BuildContext, 'log'>, what: string): { kept: FileEntry[]; missing: number } {
  const kept: FileEntry[] = [];
  const missing: string[] = [];
  for (const e of entries) {
    const gone = [e.image, e.label].filter((f) => !existsSync(f));
    if (gone.length === 0) kept.push(e);
    else missing.push(...gone.map((f) => `${f} (sample '${e.id}')`));
  }
  if (missing.length > 0) {
    const shown = missing.slice(0, 5).join('\n  ');
    const more = missing.length > 5 ? `\n  … and ${missing.length - 5} more` : '';
    if (policy === 'error') {
      throw new AblateError('data.missing-file', `${missing.length} file(s) of the ${what} list do not exist:\n  ${shown}${more}`, {
        where: { key: 'dataset.root' },
        hint: 'Check dataset.root and the list file, or set `dataset.on_bad_sample: skip` to leave these samples out.',
      });
    }
    ctx.log.warn(`skipping ${entries.length - kept.length} sample(s) of the ${what} list with missing files:\n  ${shown}${more}`);
  }
  return { kept, missing: entries.length - kept.length };
}

export interface DatasetFiles {
  train: FileEntry[];
  val: FileEntry[];
  /** What the training ids came from, for the partition file. */
  source: string;
  numClasses: number;
  classNames: readonly string[];
  labelMap?: Int16Array;
  /** How colour label files map to stored values (RGB triples, value i at 3i), e.g. VOC's palette. */
  labelColours?: Uint8Array;
  /** Colours for showing class maps (evaluation sample images), RGB of value i at 3i. */
  classColours?: Uint8Array;
  /** The data set's name in the tracker's dataset inputs (default: the plugin's slot). */
  name?: string;
}

/**
 * The training partition as dataset inputs (MLflow's `log_input`): the labeled and the unlabeled
 * ids actually used, each identified by the digest of its ids, so two runs on the same images share
 * a dataset in the MLflow UI whatever folder they read them from.
 */
export function partitionInputs(name: string, source: string, partition: { labeled: readonly string[]; unlabeled: readonly string[] }, labeledFraction: number): DatasetInput[] {
  const digest = (ids: readonly string[]) => createHash('sha256').update(ids.join('\n')).digest('hex').slice(0, 16);
  const inputs: DatasetInput[] = [{ name: `${name}-labeled`, digest: digest(partition.labeled), source, context: 'training', profile: { images: partition.labeled.length, labeled_fraction: labeledFraction } }];
  if (partition.unlabeled.length > 0) inputs.push({ name: `${name}-unlabeled`, digest: digest(partition.unlabeled), source, context: 'training', profile: { images: partition.unlabeled.length } });
  return inputs;
}

/** Builds the dataset: partition (read or split and written), transforms, file checks. */
export async function buildFileDataset(o: PipelineOptions, ctx: BuildContext, files: DatasetFiles): Promise<FileSegmentationDataset> {
  const ignoreIndex = 255;
  // Partition over the list as given, so a missing file never shifts the split.
  let partition: { labeled: string[]; unlabeled: string[]; file?: string };
  if (o.partition_file) {
    const file = resolvePath(ctx, o.partition_file);
    const read = readPartitionFile(file, new Set(files.train.map((e) => e.id)));
    partition = { labeled: read.labeled, unlabeled: read.unlabeled, file };
    ctx.log.info(`partition: ${read.labeled.length} labeled / ${read.unlabeled.length} unlabeled, reused from ${file}`);
    if (ctx.runDir) {
      mkdirSync(ctx.runDir, { recursive: true });
      const copy = path.join(ctx.runDir, 'partition.json');
      if (path.resolve(copy) !== path.resolve(file)) copyFileSync(file, copy);
    }
  } else if (ctx.runDir && existsSync(path.join(ctx.runDir, 'partition.json'))) {
    // A resumed run (the run folder is keyed by the config hash): keep the split it started with.
    const file = path.join(ctx.runDir, 'partition.json');
    const read = readPartitionFile(file, new Set(files.train.map((e) => e.id)));
    // A folder reused for another split would silently train on the old one: refuse instead.
    const recorded = { labeled_fraction: read.labeled_fraction, split_seed: read.split_seed };
    const asked = { labeled_fraction: o.labeled_fraction, split_seed: o.split_seed };
    for (const key of ['labeled_fraction', 'split_seed'] as const) {
      if (recorded[key] !== undefined && recorded[key] !== asked[key]) {
        throw new AblateError('data.partition-mismatch', `run folder ${ctx.runDir} holds a partition made with dataset.${key} ${recorded[key]}, but this run asks for ${asked[key]}`, {
          where: { file, key: `${ctx.slot}.${key}` },
          hint: 'Use a new run folder for a new split, or pass dataset.partition_file to reuse this one on purpose.',
        });
      }
    }
    partition = { labeled: read.labeled, unlabeled: read.unlabeled, file };
    ctx.log.info(`partition: ${read.labeled.length} labeled / ${read.unlabeled.length} unlabeled, kept from ${file}`);
  } else {
    partition = splitIds(files.train.map((e) => e.id), o.labeled_fraction, o.split_seed);
    if (ctx.runDir) {
      const file = path.join(ctx.runDir, 'partition.json');
      writePartitionFile(file, { source: files.source, labeled_fraction: o.labeled_fraction, split_seed: o.split_seed, total: files.train.length, ...partition });
      partition.file = file;
    }
  }
  const train = checkFilesExist(files.train, o.on_bad_sample, ctx, 'training');
  const val = checkFilesExist(files.val, o.on_bad_sample, ctx, 'evaluation');
  const present = new Set(train.kept.map((e) => e.id));
  if (train.missing > 0) {
    partition = { ...partition, labeled: partition.labeled.filter((id) => present.has(id)), unlabeled: partition.unlabeled.filter((id) => present.has(id)) };
  }

  const fill = o.normalize ? meanAsRgb({ mean: o.normalize.mean, std: [1, 1, 1], order: o.normalize.order ?? 'rgb' }) : [0, 0, 0];
  const pre: Transform[] = o.resize ? [resizeT({ size: o.resize, only_if_smaller: false })] : [];
  const extra: Transform[] = [];
  for (const [i, t] of o.transforms.entries()) extra.push(await ctx.build('transform', t, `${ctx.slot}.transforms.${i}`));
  const post: Transform[] = o.normalize ? [normalize({ mean: o.normalize.mean, std: o.normalize.std ?? [1, 1, 1], order: o.normalize.order ?? 'rgb' })] : [];
  const mirror: Transform[] = o.mirror ? [mirrorT(0.5)] : [];
  const scaleOpts = o.scale ? { min: o.scale.min, max: o.scale.max, steps: o.scale.steps ?? null } : null;

  const trainT: Transform[] = [...pre];
  if (scaleOpts && o.crop) trainT.push(randomScaleCrop(scaleOpts, { size: o.crop, pad_fill: fill, ignore_index: ignoreIndex }));
  else if (scaleOpts) trainT.push(randomScale({ ...scaleOpts, min_size: null, retries: 1 }));
  else if (o.crop) trainT.push(randomCrop({ size: o.crop, pad_fill: fill, ignore_index: ignoreIndex }));
  trainT.push(...mirror, ...extra, ...post);

  // Streams asked for unpadded samples: rescaled until they cover the crop, so no padding remains.
  let unpaddedT: Transform[] = trainT;
  if (!o.ground_truth_padding && o.crop) {
    unpaddedT = [...pre];
    if (scaleOpts) unpaddedT.push(randomScale({ ...scaleOpts, min_size: o.crop, retries: 10 }));
    else unpaddedT.push(resizeT({ size: toHW(o.crop), only_if_smaller: true }));
    unpaddedT.push(randomCrop({ size: o.crop, pad_fill: fill, ignore_index: ignoreIndex }), ...mirror, ...extra, ...post);
  }

  const evalPad = o.eval_pad ? toHW(o.eval_pad) : null;
  ctx.log.info(
    `dataset: ${train.kept.length} training images (${partition.labeled.length} labeled, ${partition.unlabeled.length} unlabeled), ${val.kept.length} evaluation images, ${files.numClasses} classes`,
  );
  return new FileSegmentationDataset({
    train: train.kept,
    val: val.kept,
    partition,
    numClasses: files.numClasses,
    ignoreIndex,
    classNames: files.classNames,
    labelMap: files.labelMap,
    labelColours: files.labelColours,
    classColours: files.classColours,
    train_transforms: trainT,
    unpadded_transforms: unpaddedT,
    eval_pre_transforms: pre,
    eval_pad: evalPad ? { height: evalPad[0], width: evalPad[1] } : null,
    pad_fill: fill,
    eval_post_transforms: post,
    dropLast: o.drop_last,
    onBadSample: o.on_bad_sample,
    prefetch: o.prefetch,
    cache: o.cache,
    skipped: train.missing + val.missing,
    describeInputs: () => partitionInputs(files.name ?? ctx.slot, files.source, partition, o.labeled_fraction),
    log: ctx.log,
  });
}
