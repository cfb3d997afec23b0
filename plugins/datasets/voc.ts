import path from 'node:path';
import { definePlugin, type JsonSchema } from '../../src/index.js';
import { VOC_CLASSES, vocPalette } from './voc-palette.js';
import { buildFileDataset, pipelineProperties, REFERENCE_NORMALIZE, resolvePath, withDefaults, type PipelineOptions } from './common.js';
import { readVocList } from './voc-files.js';

export interface VocOptions extends PipelineOptions {
  root: string;
  train_list: string;
  val_list: string;
  image_dir: string;
  image_ext: string;
  label_dir: string;
  val_label_dir: string | null;
  label_ext: string;
}

/** Defaults of the `voc` plugin: the released AdvSemiSeg command (crop 321, no scale, no mirror). */
export const VOC_DEFAULTS: VocOptions = {
  root: 'data/VOCdevkit/VOC2012',
  train_list: 'ImageSets/Segmentation/train_aug.txt',
  val_list: 'ImageSets/Segmentation/val.txt',
  image_dir: 'JPEGImages',
  image_ext: '.jpg',
  label_dir: 'SegmentationClassAug',
  val_label_dir: null,
  label_ext: '.png',
  labeled_fraction: 1,
  split_seed: 0,
  partition_file: null,
  drop_last: false,
  on_bad_sample: 'error',
  resize: null,
  scale: null,
  crop: 321,
  mirror: false,
  normalize: REFERENCE_NORMALIZE,
  transforms: [],
  eval_pad: 505,
  ground_truth_padding: false,
  prefetch: 2,
  cache: false,
};

/** Options of the VOC layout itself (shared with `mini-voc`). */
export function vocLayoutProperties(d: VocOptions): Record<string, JsonSchema> {
  return {
    root: { type: 'string', format: 'path', default: d.root, description: 'The VOC2012 folder (holding JPEGImages/, SegmentationClassAug/, ImageSets/); a relative path is relative to the config file that sets it (the default: to the experiment).' },
    train_list: { type: 'string', default: d.train_list, description: 'Training list (relative to root unless absolute): one id per line, or "image label" path pairs. VOC-aug: train_aug.txt with 10582 ids.' },
    val_list: { type: 'string', default: d.val_list, description: 'Evaluation list (relative to root unless absolute); VOC2012 val: 1449 ids.' },
    image_dir: { type: 'string', default: d.image_dir, description: 'Image folder under root.' },
    image_ext: { type: 'string', default: d.image_ext, description: 'Image file extension.' },
    label_dir: {
      type: 'string',
      default: d.label_dir,
      description: 'Label folder under root: 8-bit index PNGs (SegmentationClassAug) or VOC palette PNGs (SegmentationClass); both decode to class indices, 255 = void.',
    },
    val_label_dir: { type: ['string', 'null'], default: d.val_label_dir, description: 'Label folder for the evaluation list; null = label_dir.' },
    label_ext: { type: 'string', default: d.label_ext, description: 'Label file extension.' },
  };
}

export async function vocFiles(o: VocOptions, baseDir: string) {
  const root = resolvePath({ baseDir }, o.root);
  const at = (p: string) => (path.isAbsolute(p) ? p : path.join(root, p));
  const layout = { root, image_dir: o.image_dir, image_ext: o.image_ext, label_dir: o.label_dir, label_ext: o.label_ext };
  const trainFile = at(o.train_list);
  return {
    root,
    train: readVocList(trainFile, layout, 'dataset.train_list'),
    val: readVocList(at(o.val_list), { ...layout, label_dir: o.val_label_dir ?? o.label_dir }, 'dataset.val_list'),
    source: trainFile,
  };
}

export const vocDataset = definePlugin<'dataset', Partial<VocOptions>>({
  kind: 'dataset',
  type: 'voc',
  description: 'PASCAL VOC 2012 with the SBD "aug" labels (JPEGImages, SegmentationClassAug, list files): 21 classes, 255 void.',
  options: {
    type: 'object',
    properties: { ...vocLayoutProperties(VOC_DEFAULTS), ...pipelineProperties(VOC_DEFAULTS) },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const o = withDefaults(options, VOC_DEFAULTS);
    const files = await vocFiles(o, ctx.baseDir);
    return buildFileDataset(o, ctx, { ...files, numClasses: 21, classNames: VOC_CLASSES, labelColours: vocPalette(), classColours: vocPalette(), name: 'voc' });
  },
});
