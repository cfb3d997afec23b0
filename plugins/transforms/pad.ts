import { definePlugin, padSample, type Sample } from '../../src/index.js';
import { rgbSchema, sizeSchema, toHW, type Size } from './common.js';

export interface PadOptions {
  size: Size;
  fill: number[];
  ignore_index: number;
}

export function pad(o: PadOptions) {
  const [h, w] = toHW(o.size);
  return { apply: (s: Sample): Sample => padSample(s, h, w, o.fill, o.ignore_index) };
}

export const padTransform = definePlugin<'transform', Partial<PadOptions>>({
  kind: 'transform',
  type: 'pad',
  description: 'Pads bottom/right to at least a size (image with a fill colour, label with the ignore index); the evaluation path pads whole images this way and crops predictions back.',
  options: {
    type: 'object',
    properties: {
      size: sizeSchema('Minimum size after padding: one number or [height, width]. Larger samples are left as they are.', { default: 505 }),
      fill: rgbSchema('RGB colour (0–255, before normalisation) for padded pixels.', [0, 0, 0]),
      ignore_index: { type: 'integer', minimum: 0, maximum: 255, default: 255, description: 'Label value for padded pixels.' },
    },
    additionalProperties: false,
  },
  create(o) {
    return pad({ size: o.size ?? 505, fill: o.fill ?? [0, 0, 0], ignore_index: o.ignore_index ?? 255 });
  },
});
