import { definePlugin, resizeSample, type Sample } from '../../src/index.js';
import { sizeSchema, toHW, type Size } from './common.js';

export interface ResizeOptions {
  size: Size;
  only_if_smaller: boolean;
}

export function resize(o: ResizeOptions) {
  const [h, w] = toHW(o.size);
  return {
    apply(s: Sample): Sample {
      if (o.only_if_smaller && s.height >= h && s.width >= w) return s;
      return resizeSample(s, h, w);
    },
  };
}

export const resizeTransform = definePlugin<'transform', Partial<ResizeOptions>>({
  kind: 'transform',
  type: 'resize',
  description: 'Resizes image (bilinear) and label (nearest) to a fixed size, e.g. Cityscapes at 512×1024.',
  options: {
    type: 'object',
    properties: {
      size: sizeSchema('Target size: one number or [height, width].', { default: [512, 1024] }),
      only_if_smaller: { type: 'boolean', default: false, description: 'Resize only samples smaller than the size in some dimension (the reference ground-truth loader without scaling).' },
    },
    additionalProperties: false,
  },
  create(o) {
    return resize({ size: o.size ?? [512, 1024], only_if_smaller: o.only_if_smaller ?? false });
  },
});
