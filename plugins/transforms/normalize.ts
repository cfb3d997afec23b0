import { definePlugin, type Sample } from '../../src/index.js';
import { rgbSchema } from './common.js';

export interface NormalizeOptions {
  mean: number[];
  std: number[];
  order: 'rgb' | 'bgr';
}

/** RGB mean of a normalisation given in its own channel order (for padding with the mean colour). */
export function meanAsRgb(o: NormalizeOptions): number[] {
  return o.order === 'bgr' ? [...o.mean].reverse() : [...o.mean];
}

export function normalize(o: NormalizeOptions) {
  const bgr = o.order === 'bgr';
  const [m0, m1, m2] = o.mean as [number, number, number];
  const [s0, s1, s2] = o.std as [number, number, number];
  return {
    apply(s: Sample): Sample {
      const src = s.image;
      const out = new Float32Array(src.length);
      for (let i = 0; i < src.length; i += 3) {
        const r = src[i] as number;
        const g = src[i + 1] as number;
        const b = src[i + 2] as number;
        out[i] = ((bgr ? b : r) - m0) / s0;
        out[i + 1] = (g - m1) / s1;
        out[i + 2] = ((bgr ? r : b) - m2) / s2;
      }
      return { ...s, image: out };
    },
  };
}

export const normalizeTransform = definePlugin<'transform', Partial<NormalizeOptions>>({
  kind: 'transform',
  type: 'normalize',
  description: 'Puts channels in the network order (rgb or bgr), then subtracts a mean and divides by a std (0–255 units).',
  options: {
    type: 'object',
    properties: {
      mean: rgbSchema('Per-channel mean in 0–255 units, listed in `order`. ImageNet: [123.675, 116.28, 103.53] (rgb).', [0, 0, 0]),
      std: rgbSchema('Per-channel std in 0–255 units, listed in `order`. 1s = mean subtraction only (the reference); [255, 255, 255] with a zero mean = ToTensor-style 0–1.', [1, 1, 1]),
      order: {
        enum: ['rgb', 'bgr'],
        default: 'rgb',
        description:
          "Channel order fed to the network; mean/std are listed in this order. The released AdvSemiSeg code subtracts the BGR mean and then reverses to RGB, which equals order rgb with mean [122.67891434, 116.66876762, 104.00698793]; a Caffe-style BGR network uses order bgr with [104.00698793, 116.66876762, 122.67891434].",
      },
    },
    additionalProperties: false,
  },
  create(o) {
    return normalize({ mean: o.mean ?? [0, 0, 0], std: o.std ?? [1, 1, 1], order: o.order ?? 'rgb' });
  },
});
