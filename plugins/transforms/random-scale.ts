import { definePlugin, resizeSample, type Rng, type Sample } from '../../src/index.js';
import { sizeSchema, toHW, type Size } from './common.js';

export interface RandomScaleOptions {
  min: number;
  max: number;
  steps: number | null;
  min_size: Size | null;
  retries: number;
}

/** The scale factor: continuous in [min, max], or one of `steps` evenly spaced values from min to max. */
export function drawScale(o: Pick<RandomScaleOptions, 'min' | 'max' | 'steps'>, rng: Rng): number {
  if (o.steps && o.steps > 1) return o.min + (rng.int(0, o.steps) * (o.max - o.min)) / (o.steps - 1);
  if (o.steps === 1) return o.min;
  return o.min + rng.next() * (o.max - o.min);
}

export function randomScale(o: RandomScaleOptions) {
  const minHW = o.min_size === null ? null : toHW(o.min_size);
  return {
    apply(s: Sample, rng: Rng): Sample {
      for (let attempt = 0; attempt < (minHW ? Math.max(1, o.retries) : 1); attempt++) {
        const f = drawScale(o, rng);
        const h = Math.max(1, Math.round(s.height * f));
        const w = Math.max(1, Math.round(s.width * f));
        if (!minHW || (h >= minHW[0] && w >= minHW[1])) return resizeSample(s, h, w);
      }
      // Like the reference's ground-truth loader: when no draw is large enough, resize to the minimum.
      return resizeSample(s, (minHW as [number, number])[0], (minHW as [number, number])[1]);
    },
  };
}

/** Random rescaling: image bilinear, label nearest. */
export const randomScaleTransform = definePlugin<'transform', Partial<RandomScaleOptions>>({
  kind: 'transform',
  type: 'random_scale',
  description: 'Rescales image (bilinear) and label (nearest) by a random factor, continuous or in discrete steps.',
  options: {
    type: 'object',
    properties: {
      min: { type: 'number', exclusiveMinimum: 0, default: 0.5, description: 'Smallest scale factor.' },
      max: { type: 'number', exclusiveMinimum: 0, default: 1.5, description: 'Largest scale factor.' },
      steps: {
        type: ['integer', 'null'],
        minimum: 1,
        default: null,
        description: 'Number of evenly spaced factors from min to max (the reference: min 0.5, max 1.6, steps 12, i.e. 0.5 + k/10); null draws continuously.',
      },
      min_size: sizeSchema('Redraw (up to `retries` times) until the scaled sample is at least this size, then resize to exactly this size; the reference ground-truth loader does this so real maps carry no padding. null = no minimum.', {
        default: null,
        oneOf: [{ type: 'null' }, { type: 'integer', minimum: 1 }, { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 2 }],
      }),
      retries: { type: 'integer', minimum: 1, default: 10, description: 'Draws before falling back to a resize when `min_size` is set.' },
    },
    additionalProperties: false,
  },
  create(o) {
    return randomScale({ min: o.min ?? 0.5, max: o.max ?? 1.5, steps: o.steps ?? null, min_size: o.min_size ?? null, retries: o.retries ?? 10 });
  },
});
