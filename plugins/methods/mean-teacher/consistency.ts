/**
 * The unlabeled losses of mean-teacher segmentation: the student's prediction on a mixed image
 * against the teacher's mixed prediction, weighted by the teacher's confidence and ramped up over
 * the first iterations. Two forms, as the two papers' released code computes them:
 *   - `pseudo_label_ce` (ClassMix): cross-entropy against the teacher's argmax pseudo-labels;
 *   - `prob_mse` (CutMix): the squared distance of the class probabilities, summed over classes.
 * Inputs: `logits` (student, N×H×W×C), `teacherProbs` (the mixed teacher probabilities, N×H×W×C,
 * constants), `iteration` (a scalar tensor, for the ramp-up; fed in, so the step stays compiled).
 * Unlike the core's losses, these apply their own `weight` (the papers' consistency weight), so
 * every knob the papers ablate lives in one place.
 */
import { tf, nn, definePlugin, type JsonSchema, type Loss, type LossOutput, type Scalar, type Tensor } from '../../../src/index.js';
import { tensorInput } from '../../losses/common.js';

export interface ConsistencyOptions {
  threshold: number;
  per_pixel: boolean;
  weight: number;
  rampup: number;
}

/** exp(-5 (1 - min(t/T, 1))²), the sigmoid ramp-up of Laine & Aila (2017); 1 when T is 0. */
export function sigmoidRampup(iteration: Tensor, length: number): Scalar {
  if (length <= 0) return tf.scalar(1);
  const phase = tf.sub(1, tf.clipByValue(iteration.toFloat().div(length), 0, 1));
  return tf.exp(phase.square().mul(-5)) as Scalar;
}

function schema(d: { threshold: number; thresholdSource: string; perPixelSource: string; weightSource: string; rampupSource: string }): JsonSchema {
  return {
    type: 'object',
    properties: {
      threshold: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: d.threshold,
        description: `Pixels whose teacher confidence (max class probability) reaches it count; 0 keeps every pixel (${d.thresholdSource}).`,
      },
      per_pixel: {
        type: 'boolean',
        default: false,
        description: `true: only confident pixels count; false: every pixel counts, the loss scaled by the fraction of confident pixels (${d.perPixelSource}).`,
      },
      weight: { type: 'number', minimum: 0, default: 1, description: `Weight of the loss in the student's objective (${d.weightSource}).` },
      rampup: {
        type: 'integer',
        minimum: 0,
        default: 0,
        description: `Iterations of the sigmoid ramp-up exp(-5(1-t/T)²) that multiplies the loss; 0: none (${d.rampupSource}).`,
      },
    },
    additionalProperties: false,
  };
}

/** Confidence weighting, ramp-up and weight around a per-pixel loss (N×H×W). */
function consistency(o: ConsistencyOptions, name: string, perPixel: (logits: Tensor, teacherProbs: Tensor) => Tensor): Loss {
  return {
    compute(inputs): LossOutput {
      const logits = tensorInput(inputs, 'logits', name);
      const teacher = nn.stopGradient(tensorInput(inputs, 'teacherProbs', name));
      const iteration = inputs.iteration instanceof tf.Tensor ? inputs.iteration : tf.scalar(0);
      const confident = teacher.max(-1).greaterEqual(o.threshold).toFloat(); // N×H×W
      const confRatio = confident.mean() as Scalar;
      const pixelWeight = o.per_pixel ? confident : confRatio;
      const raw = perPixel(logits, teacher).mul(pixelWeight).mean() as Scalar;
      const loss = raw.mul(sigmoidRampup(iteration, o.rampup)).mul(o.weight) as Scalar;
      return { loss, stats: { conf_ratio: confRatio } };
    },
  };
}

const CLASSMIX = 'WilhelmT/ClassMix';
const CUTMIX = 'Britefury/cutmix-semisup-seg';

export const pseudoLabelCeLoss = definePlugin<'loss', ConsistencyOptions>({
  kind: 'loss',
  type: 'pseudo_label_ce',
  description: "Cross-entropy of the student's mixed prediction against the teacher's mixed argmax pseudo-labels, weighted by the teacher's confidence (ClassMix).",
  options: schema({
    threshold: 0.968,
    thresholdSource: `${CLASSMIX} trainSSL.py:461, max_probs.ge(0.968)`,
    perPixelSource: `${CLASSMIX} configs/configVOC.json, pixel_weight "threshold_uniform"; per-pixel is "threshold", trainSSL.py:464`,
    weightSource: `${CLASSMIX} configs/configVOC.json, consistency_weight 1`,
    rampupSource: `${CLASSMIX} trainSSL.py:465-467 ramps with max_iter 10000 only under pixel_weight "sigmoid", not the default`,
  }),
  create: (o) =>
    consistency(o, 'pseudo_label_ce', (logits, teacher) => {
      const pseudo = teacher.argMax(-1);
      const logp = tf.logSoftmax(logits);
      return tf.oneHot(pseudo, logits.shape[3]!).mul(logp).sum(-1).neg();
    }),
});

export const probMseLoss = definePlugin<'loss', ConsistencyOptions>({
  kind: 'loss',
  type: 'prob_mse',
  description: "Squared distance between the student's and the teacher's class probabilities on mixed images, summed over classes, weighted by the teacher's confidence (CutMix).",
  options: schema({
    threshold: 0.97,
    thresholdSource: `${CUTMIX} train_seg_semisup_mask_mt.py:623 and run_pascal_aug_experiments.sh:21, --conf_thresh=0.97`,
    perPixelSource: `${CUTMIX} train_seg_semisup_mask_mt.py:415-416, --conf_per_pixel off`,
    weightSource: `${CUTMIX} run_pascal_aug_experiments.sh:21, --cons_weight=1.0`,
    rampupSource: `${CUTMIX} train_seg_semisup_mask_mt.py:625, --rampup=-1 (off; it counts epochs there)`,
  }),
  create: (o) => consistency(o, 'prob_mse', (logits, teacher) => tf.softmax(logits).sub(teacher).square().sum(-1)),
});
