import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { AblateError, definePlugin, type FileEntry } from '../../src/index.js';
import { buildFileDataset, pipelineProperties, REFERENCE_NORMALIZE, resolvePath, withDefaults, type PipelineOptions } from './common.js';

export interface CityscapesOptions extends PipelineOptions {
  root: string;
  train_split: string;
  val_split: string;
}

export const CITYSCAPES_CLASSES: readonly string[] = [
  'road', 'sidewalk', 'building', 'wall', 'fence', 'pole', 'traffic light', 'traffic sign', 'vegetation', 'terrain',
  'sky', 'person', 'rider', 'car', 'truck', 'bus', 'train', 'motorcycle', 'bicycle',
];

/** The train ids' colours of the Cityscapes scripts (`labels.py`), RGB at 3·id; void (255) black as there. */
export function cityscapesPalette(): Uint8Array {
  const colours = [
    [128, 64, 128], [244, 35, 232], [70, 70, 70], [102, 102, 156], [190, 153, 153], [153, 153, 153], [250, 170, 30], [220, 220, 0], [107, 142, 35], [152, 251, 152],
    [70, 130, 180], [220, 20, 60], [255, 0, 0], [0, 0, 142], [0, 0, 70], [0, 60, 100], [0, 80, 100], [0, 0, 230], [119, 11, 32],
  ];
  const pal = new Uint8Array(256 * 3);
  colours.forEach((rgb, i) => pal.set(rgb, 3 * i));
  return pal;
}

/** labelIds (0..33) of the 19 evaluated classes, in train-id order; every other id is void. */
const EVALUATED_LABEL_IDS = [7, 8, 11, 12, 13, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 31, 32, 33];

/** Stored labelId → train id (255 = ignored); -1 = a value that cannot occur in a labelIds file. */
export function cityscapesLabelMap(): Int16Array {
  const map = new Int16Array(256).fill(-1);
  for (let id = 0; id <= 33; id++) map[id] = 255;
  map[255] = 255; // license plate (id -1) as stored in 8 bits
  EVALUATED_LABEL_IDS.forEach((id, trainId) => (map[id] = trainId));
  return map;
}

/** The paper's setting (Hung et al., BMVC 2018, Cityscapes experiments): images resized to 512×1024, no random crop or scale. */
export const CITYSCAPES_DEFAULTS: CityscapesOptions = {
  root: 'data/cityscapes',
  train_split: 'train',
  val_split: 'val',
  labeled_fraction: 1,
  split_seed: 0,
  partition_file: null,
  drop_last: false,
  on_bad_sample: 'error',
  resize: [512, 1024],
  scale: null,
  crop: null,
  mirror: false,
  normalize: REFERENCE_NORMALIZE,
  transforms: [],
  eval_pad: null,
  ground_truth_padding: false,
  prefetch: 2,
  cache: false,
};

/** `leftImg8bit/<split>/<city>/<stem>_leftImg8bit.png` with `gtFine/<split>/<city>/<stem>_gtFine_labelIds.png`. */
export function cityscapesEntries(root: string, split: string, key: string): FileEntry[] {
  const imageRoot = path.join(root, 'leftImg8bit', split);
  if (!existsSync(imageRoot)) {
    throw new AblateError('data.missing-file', `Cityscapes folder ${imageRoot} does not exist`, {
      where: { key },
      hint: 'dataset.root must hold leftImg8bit/ and gtFine/ (the leftImg8bit_trainvaltest and gtFine_trainvaltest archives).',
    });
  }
  const entries: FileEntry[] = [];
  for (const city of readdirSync(imageRoot).sort()) {
    const dir = path.join(imageRoot, city);
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('_leftImg8bit.png')) continue;
      const stem = name.slice(0, -'_leftImg8bit.png'.length);
      entries.push({ id: `${city}/${stem}`, image: path.join(dir, name), label: path.join(root, 'gtFine', split, city, `${stem}_gtFine_labelIds.png`) });
    }
  }
  if (entries.length === 0) throw new AblateError('data.empty-list', `Cityscapes folder ${imageRoot} holds no *_leftImg8bit.png images`, { where: { key } });
  return entries;
}

export const cityscapesDataset = definePlugin<'dataset', Partial<CityscapesOptions>>({
  kind: 'dataset',
  type: 'cityscapes',
  description: 'Cityscapes fine annotations (leftImg8bit + gtFine labelIds mapped to the 19 train ids, 255 ignored).',
  options: {
    type: 'object',
    properties: {
      root: { type: 'string', format: 'path', default: CITYSCAPES_DEFAULTS.root, description: 'Folder holding leftImg8bit/ and gtFine/; a relative path is relative to the config file that sets it (the default: to the experiment).' },
      train_split: { type: 'string', default: 'train', description: 'Training split folder (2975 images).' },
      val_split: { type: 'string', default: 'val', description: 'Evaluation split folder (500 images).' },
      ...pipelineProperties(CITYSCAPES_DEFAULTS),
    },
    additionalProperties: false,
  },
  async create(options, ctx) {
    const o = withDefaults(options, CITYSCAPES_DEFAULTS);
    const root = resolvePath(ctx, o.root);
    return buildFileDataset(o, ctx, {
      train: cityscapesEntries(root, o.train_split, 'dataset.train_split'),
      val: cityscapesEntries(root, o.val_split, 'dataset.val_split'),
      source: path.join(root, 'leftImg8bit', o.train_split),
      numClasses: 19,
      classNames: CITYSCAPES_CLASSES,
      classColours: cityscapesPalette(),
      labelMap: cityscapesLabelMap(),
      name: 'cityscapes',
    });
  },
});
