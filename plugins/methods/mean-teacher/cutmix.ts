import { tf, definePlugin, type Rng } from '../../../src/index.js';
import type { MixBatch, MixMaskGenerator } from './mix-mask.js';

interface CutMixOptions {
  prop_range: [number, number];
  n_boxes: number;
  random_aspect_ratio: boolean;
}

const REPO = 'Britefury/cutmix-semisup-seg';

/**
 * Rectangles cut from the partner image, drawn as the authors' `BoxMaskGenerator.generate_params`
 * does (mask_gen.py:73-116, `prop_by_area`, `within_bounds`, `invert`): per image and box an area
 * proportion, then a log-uniform aspect ratio, sizes and positions rounded half to even as
 * `np.round` does, in that order of draws. A pixel inside an odd number of boxes comes from the
 * partner (mask 0), every other pixel from the image itself (mask 1).
 */
export function drawBoxMasks(rng: Rng, batch: Pick<MixBatch, 'n' | 'height' | 'width'>, o: CutMixOptions): Float32Array {
  const { n, height: h, width: w } = batch;
  const b = o.n_boxes;
  const [lo, hi] = o.prop_range;
  const props = Array.from({ length: n * b }, () => lo + (hi - lo) * rng.next());
  const yProps = o.random_aspect_ratio ? props.map((p) => (p === 0 ? 0 : Math.exp(rng.next() * Math.log(p)))) : props.map(Math.sqrt);
  const xProps = props.map((p, i) => (p === 0 ? 0 : p / yProps[i]!));
  const fac = Math.sqrt(1 / b);
  const sizes = props.map((_, i) => [roundHalfEven(yProps[i]! * fac * h), roundHalfEven(xProps[i]! * fac * w)] as const);
  const positions = sizes.map(([sh, sw]) => [roundHalfEven((h - sh) * rng.next()), roundHalfEven((w - sw) * rng.next())] as const);
  const masks = new Float32Array(n * h * w).fill(1);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < b; k++) {
      const [sh, sw] = sizes[i * b + k]!;
      const [y0, x0] = positions[i * b + k]!;
      for (let y = y0; y < y0 + sh; y++) for (let x = x0; x < x0 + sw; x++) masks[(i * h + y) * w + x] = 1 - masks[(i * h + y) * w + x]!;
    }
  }
  return masks;
}

/** `np.round`: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** CutMix masks (French et al., BMVC 2020): one box of half the image, of random aspect ratio, per image. */
export const cutmixMask = definePlugin<'mix_mask', CutMixOptions>({
  kind: 'mix_mask',
  type: 'cutmix',
  description: 'CutMix: rectangles of the partner image pasted into each unlabeled image (French et al., BMVC 2020).',
  options: {
    type: 'object',
    properties: {
      prop_range: {
        type: 'array',
        items: { type: 'number', minimum: 0, maximum: 1 },
        minItems: 2,
        maxItems: 2,
        default: [0.5, 0.5],
        description: `Range of the area proportion the boxes cover, drawn uniformly (${REPO} run_pascal_aug_experiments.sh:21 and run_cityscapes_experiments.sh:22, --mask_prop_range=0.5).`,
      },
      n_boxes: { type: 'integer', minimum: 1, default: 1, description: `Boxes per image, each of area proportion/n_boxes (${REPO} train_seg_semisup_mask_mt.py:616, --boxmask_n_boxes=1).` },
      random_aspect_ratio: {
        type: 'boolean',
        default: true,
        description: `Log-uniform aspect ratio; false: square boxes (${REPO} train_seg_semisup_mask_mt.py:617, --boxmask_fixed_aspect_ratio off).`,
      },
    },
    additionalProperties: false,
  },
  create(o): MixMaskGenerator {
    return {
      draw: (rng, batch) => [tf.tensor3d(drawBoxMasks(rng, batch, o), [batch.n, batch.height, batch.width])],
      masks: ([boxes]) => boxes as tf.Tensor3D,
    };
  },
});
