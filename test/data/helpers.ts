/** Small generated fixtures in the VOC and Cityscapes layouts, written to temporary folders. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { encodeIndexedPng } from '../../src/data/index.js';
import { vocPalette } from '../../plugins/datasets/voc-palette.js';
import { tmpDir } from '../support/tmp.js';

/** A label map of vertical class bands (background on the left), with a void column. */
export function bandLabel(h: number, w: number, classes: number): Uint8Array {
  const label = new Uint8Array(h * w);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) label[y * w + x] = Math.min(classes - 1, Math.floor((x * classes) / w));
  for (let y = 0; y < h; y++) label[y * w + Math.floor(w / 2)] = 255;
  return label;
}

/** An image whose colour encodes the label (R = 10·class), so alignment is checkable after decode. */
export function imageFor(label: Uint8Array): Uint8Array {
  const rgb = new Uint8Array(label.length * 3);
  for (let i = 0; i < label.length; i++) {
    const l = label[i] as number;
    rgb[i * 3] = l === 255 ? 250 : l * 10;
    rgb[i * 3 + 1] = 100;
    rgb[i * 3 + 2] = 50;
  }
  return rgb;
}

export interface VocFixture {
  root: string;
  train: string[];
  val: string[];
  size: (id: string) => [number, number];
}

/** A tiny VOC2012-aug folder: JPEGImages, SegmentationClassAug (index), SegmentationClass (palette), lists. */
export async function writeVocFixture(opts: { train?: number; val?: number; classes?: number } = {}): Promise<VocFixture> {
  const root = tmpDir('voc');
  const nTrain = opts.train ?? 12;
  const nVal = opts.val ?? 3;
  const classes = opts.classes ?? 21;
  for (const d of ['JPEGImages', 'SegmentationClassAug', 'SegmentationClass', 'ImageSets/Segmentation']) mkdirSync(path.join(root, d), { recursive: true });
  const sizes = new Map<string, [number, number]>();
  const palette = vocPalette();
  const write = async (id: string, h: number, w: number) => {
    const label = bandLabel(h, w, classes);
    sizes.set(id, [h, w]);
    // Full-resolution chroma keeps the colour steps sharp enough to check alignment after decoding.
    await sharp(Buffer.from(imageFor(label)), { raw: { width: w, height: h, channels: 3 } })
      .jpeg({ quality: 100, chromaSubsampling: '4:4:4' })
      .toFile(path.join(root, 'JPEGImages', `${id}.jpg`));
    writeFileSync(path.join(root, 'SegmentationClassAug', `${id}.png`), encodeIndexedPng(w, h, label));
    writeFileSync(path.join(root, 'SegmentationClass', `${id}.png`), encodeIndexedPng(w, h, label, palette));
  };
  const train = Array.from({ length: nTrain }, (_, i) => `2007_${String(i).padStart(6, '0')}`);
  const val = Array.from({ length: nVal }, (_, i) => `2008_${String(i).padStart(6, '0')}`);
  // Varying sizes, some smaller than the crops used in the tests.
  for (const [i, id] of train.entries()) await write(id, 20 + (i % 3) * 4, 24 + (i % 2) * 8);
  for (const [i, id] of val.entries()) await write(id, 18 + i, 22 + 2 * i);
  writeFileSync(path.join(root, 'ImageSets/Segmentation/train_aug.txt'), `${train.join('\n')}\n`);
  writeFileSync(path.join(root, 'ImageSets/Segmentation/val.txt'), `${val.join('\n')}\n`);
  return { root, train, val, size: (id) => sizes.get(id) as [number, number] };
}

/** A tiny Cityscapes folder: leftImg8bit/<split>/<city>/…_leftImg8bit.png and gtFine labelIds. */
export async function writeCityscapesFixture(labelIds: number[]): Promise<string> {
  const root = tmpDir('cityscapes');
  const h = 8;
  const w = labelIds.length * 4;
  for (const split of ['train', 'val']) {
    for (const city of ['aachen', 'bochum']) {
      const imgDir = path.join(root, 'leftImg8bit', split, city);
      const gtDir = path.join(root, 'gtFine', split, city);
      mkdirSync(imgDir, { recursive: true });
      mkdirSync(gtDir, { recursive: true });
      for (let k = 0; k < 2; k++) {
        const stem = `${city}_${String(k).padStart(6, '0')}_000019`;
        const label = new Uint8Array(h * w);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) label[y * w + x] = labelIds[Math.floor(x / 4)] as number;
        const rgb = imageFor(new Uint8Array(h * w));
        await sharp(Buffer.from(rgb), { raw: { width: w, height: h, channels: 3 } }).png().toFile(path.join(imgDir, `${stem}_leftImg8bit.png`));
        writeFileSync(path.join(gtDir, `${stem}_gtFine_labelIds.png`), encodeIndexedPng(w, h, label));
      }
    }
  }
  return root;
}
