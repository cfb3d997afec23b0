import { cropSample, definePlugin, padSample, resizePadCropSample, type Rng, type Sample } from '../../src/index.js';
import { drawScale } from './random-scale.js';
import { rgbSchema, sizeSchema, toHW, type Size } from './common.js';

export interface RandomCropOptions {
  size: Size;
  pad_fill: number[];
  ignore_index: number;
}

export function randomCrop(o: RandomCropOptions) {
  const [h, w] = toHW(o.size);
  return {
    apply(s: Sample, rng: Rng): Sample {
      // Pad bottom/right first (image with the fill colour, label with ignore), then a uniform window.
      const p = padSample(s, h, w, o.pad_fill, o.ignore_index);
      return cropSample(p, rng.int(0, p.height - h + 1), rng.int(0, p.width - w + 1), h, w);
    },
  };
}

/**
 * random_scale followed by random_crop, fused: the same random draws in the same order and the
 * same pixels, but only the crop window is resampled (used by the datasets' standard pipeline).
 */
export function randomScaleCrop(scale: { min: number; max: number; steps: number | null }, o: RandomCropOptions) {
  const [h, w] = toHW(o.size);
  return {
    apply(s: Sample, rng: Rng): Sample {
      const f = drawScale(scale, rng);
      const sh = Math.max(1, Math.round(s.height * f));
      const sw = Math.max(1, Math.round(s.width * f));
      const top = rng.int(0, Math.max(sh, h) - h + 1);
      const left = rng.int(0, Math.max(sw, w) - w + 1);
      return resizePadCropSample(s, sh, sw, top, left, h, w, o.pad_fill, o.ignore_index);
    },
  };
}

export const randomCropTransform = definePlugin<'transform', Partial<RandomCropOptions>>({
  kind: 'transform',
  type: 'random_crop',
  description: 'Pads bottom/right to the crop size if needed (image with a fill colour, label with the ignore index), then crops a uniformly random window.',
  options: {
    type: 'object',
    properties: {
      size: sizeSchema('Crop size: one number for a square, or [height, width].', { default: 321 }),
      pad_fill: rgbSchema('RGB colour (0–255, before normalisation) for padded image pixels; the mean colour makes padding zero after mean subtraction, as in the reference.', [0, 0, 0]),
      ignore_index: { type: 'integer', minimum: 0, maximum: 255, default: 255, description: 'Label value for padded pixels.' },
    },
    additionalProperties: false,
  },
  create(o) {
    return randomCrop({ size: o.size ?? 321, pad_fill: o.pad_fill ?? [0, 0, 0], ignore_index: o.ignore_index ?? 255 });
  },
});
