/**
 * The kind this pack adds: a mix-mask generator, which says, pixel by pixel, which of two unlabeled
 * images a mixed training image takes its value from (French et al., BMVC 2020; Olsson et al.,
 * WACV 2021). Its random draws are made in JavaScript from the run's generator, outside the
 * compiled step, and enter the step as input tensors (docs/engine.md, "Compiled steps"); inside
 * the step the generator turns them (and, for ClassMix, the teacher's prediction) into masks.
 */
import type { Rng, Tensor, Tensor3D, Tensor4D } from '../../../src/index.js';

export interface MixBatch {
  /** Images in the unlabeled batch, their height and width, and the number of classes. */
  n: number;
  height: number;
  width: number;
  numClasses: number;
}

export interface MixMaskGenerator {
  /** This batch's random draws, as the input tensors `masks` reads (drawn once per iteration). */
  draw(rng: Rng, batch: MixBatch): Tensor[];
  /**
   * N×H×W float masks inside the step: 1 where mixed image i keeps its own pixel, 0 where it takes
   * the pixel of its partner (i + 1) mod N. `teacherLogits` is the teacher's N×H×W×C prediction
   * for the unmixed images.
   */
  masks(draws: readonly Tensor[], teacherLogits: Tensor4D): Tensor3D;
}

declare module '../../../src/index.js' {
  interface ComponentOf {
    mix_mask: MixMaskGenerator;
  }
}
