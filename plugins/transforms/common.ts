/** Schema pieces shared by the transform plugins. */
import type { JsonSchema } from '../../src/index.js';

/** A size as one number (square) or [height, width]. */
export const sizeSchema = (description: string, extra: JsonSchema = {}): JsonSchema => ({
  description,
  oneOf: [
    { type: 'integer', minimum: 1 },
    { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 2, maxItems: 2 },
  ],
  ...extra,
});

export type Size = number | [number, number];

export function toHW(size: Size): [number, number] {
  return typeof size === 'number' ? [size, size] : [size[0], size[1]];
}

export const rgbSchema = (description: string, dflt: number[]): JsonSchema => ({
  type: 'array',
  items: { type: 'number' },
  minItems: 3,
  maxItems: 3,
  default: dflt,
  description,
});
