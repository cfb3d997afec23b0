import { tf, definePlugin, type Rng, type Tensor, type Tensor4D } from '../../../src/index.js';
import type { MixBatch, MixMaskGenerator } from './mix-mask.js';

/**
 * ClassMix masks (Olsson et al., WACV 2021): image i keeps the pixels the teacher assigns to half
 * of the classes it predicts in image i, chosen at random, and takes every other pixel from its
 * partner (WilhelmT/ClassMix trainSSL.py:403-413, transformmasks.py `generate_class_mask`,
 * transformsgpu.py:58 `mix`). The choice, `np.random.choice(n, floor(n/2), replace=False)`, is
 * made here as "the floor(n/2) present classes of lowest priority", the priorities being one
 * uniform draw per image and class from the run's generator: the same distribution, and a pure
 * tensor program of the prediction and the draws, so the teacher's prediction never leaves the
 * compiled step.
 */
export function classMixMasks(priorities: Tensor, teacherLogits: Tensor4D): tf.Tensor3D {
  return tf.tidy(() => {
    const [, , , c] = teacherLogits.shape;
    const onehot = tf.oneHot(teacherLogits.argMax(-1), c); // N×H×W×C
    const present = onehot.max([1, 2]); // N×C, 1 for each class predicted somewhere
    // rank of class j among the present classes: how many present classes have a lower priority
    const lower = tf.less(priorities.expandDims(1), priorities.expandDims(2)).toFloat(); // [n, j, k] = p_k < p_j
    const rank = lower.mul(present.expandDims(1)).sum(-1); // N×C
    const half = present.sum(-1, true).div(2).floor(); // N×1
    const chosen = present.mul(tf.less(rank, half).toFloat()); // N×C
    return onehot.mul(chosen.expandDims(1).expandDims(1)).sum(-1) as tf.Tensor3D;
  });
}

/** One uniform priority per image and class. */
export function drawClassPriorities(rng: Rng, batch: Pick<MixBatch, 'n' | 'numClasses'>): Float32Array {
  return Float32Array.from({ length: batch.n * batch.numClasses }, () => rng.next());
}

export const classmixMask = definePlugin<'mix_mask', Record<string, never>>({
  kind: 'mix_mask',
  type: 'classmix',
  description: "ClassMix: each unlabeled image keeps the pixels of half the classes the teacher predicts in it, the rest comes from its partner (Olsson et al., WACV 2021).",
  options: { type: 'object', properties: {}, additionalProperties: false },
  create(): MixMaskGenerator {
    return {
      draw: (rng, batch) => [tf.tensor2d(drawClassPriorities(rng, batch), [batch.n, batch.numClasses])],
      masks: ([priorities], teacherLogits) => classMixMasks(priorities!, teacherLogits),
    };
  },
});
