import { definePlugin, flipSample, type Rng, type Sample } from '../../src/index.js';

export function mirror(probability: number) {
  return {
    apply(s: Sample, rng: Rng): Sample {
      return rng.next() < probability ? flipSample(s) : s;
    },
  };
}

export const mirrorTransform = definePlugin<'transform', { probability?: number }>({
  kind: 'transform',
  type: 'mirror',
  description: 'Flips image and label horizontally with a probability.',
  options: {
    type: 'object',
    properties: {
      probability: { type: 'number', minimum: 0, maximum: 1, default: 0.5, description: 'Chance of a flip.' },
    },
    additionalProperties: false,
  },
  create(o) {
    return mirror(o.probability ?? 0.5);
  },
});
