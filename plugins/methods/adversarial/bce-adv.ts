import { tf, definePlugin } from '../../../src/index.js';
import { bceWithLogits, maskedMean, numberInput, squeezeChannel, tensorInput } from '../../losses/common.js';

interface BceAdvOptions {
  real_label_smoothing: number;
}

/**
 * Adversarial BCE-with-logits against a constant target map (1 = "ground truth", 0 = "prediction"),
 * averaged over pixels not in `ignoreMask`. Inputs: `discriminatorLogits` N×H×W×1, `target` number,
 * optional `ignoreMask` N×H×W (1/true = ignore).
 */
export const bceAdvLoss = definePlugin<'loss', BceAdvOptions>({
  kind: 'loss',
  type: 'bce_adv',
  description: 'BCE with logits of the discriminator map against a constant target, ignoring masked pixels (the reference BCEWithLogitsLoss2d).',
  options: {
    type: 'object',
    properties: {
      real_label_smoothing: {
        type: 'number',
        minimum: 0,
        maximum: 0.5,
        default: 0,
        description: 'Replaces the real target 1 by 1 − s (one-sided label smoothing, as in the reproduction repo\'s adv102…adv203). The reference uses 0.',
      },
    },
    additionalProperties: false,
  },
  create(options) {
    return {
      compute(inputs) {
        const logits = squeezeChannel(tensorInput(inputs, 'discriminatorLogits', 'bce_adv'));
        let target = numberInput(inputs, 'target', 1);
        if (target === 1) target = 1 - options.real_label_smoothing;
        const mask = inputs.ignoreMask;
        const keep = mask instanceof tf.Tensor ? tf.onesLike(logits).sub(squeezeChannel(mask).toFloat()) : tf.onesLike(logits);
        const { mean, count } = maskedMean(bceWithLogits(logits, target), keep);
        return { loss: mean, stats: { pixels: count } };
      },
    };
  },
});
