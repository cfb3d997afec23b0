import { nn, definePlugin, type Scalar } from '../../../src/index.js';
import { maskedMean, numberInput, pixelCrossEntropy, squeezeChannel, tensorInput } from '../../losses/common.js';

/** A copy of `t`'s values with no link to the ops that produced it. */
interface SemiMaskedCeOptions {
  threshold: number;
}

/**
 * Self-training loss on unlabeled images: the pseudo-label is the argmax of the (full-resolution)
 * prediction, and only pixels whose confidence σ(discriminator logit) reaches the threshold count
 * (the reference sets pixels with c < T to 255). Inputs: `logits` N×H×W×C, `discriminatorLogits`
 * N×H×W×1, optional `threshold` number (the trainer's `t_semi`, which overrides the option).
 * Stats: `semi_ratio`, the fraction of pixels kept. `hasSignal` is false when none is kept.
 */
export const semiMaskedCeLoss = definePlugin<'loss', SemiMaskedCeOptions>({
  kind: 'loss',
  type: 'semi_masked_ce',
  description: 'Cross-entropy against argmax pseudo-labels, kept where the discriminator confidence is at least T (self-training).',
  options: {
    type: 'object',
    properties: {
      threshold: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.2,
        description: 'Confidence threshold T_semi, used when the trainer passes none (the adversarial-semi trainer always passes its `t_semi`).',
      },
    },
    additionalProperties: false,
  },
  create(options) {
    return {
      compute(inputs) {
        const logits = tensorInput(inputs, 'logits', 'semi_masked_ce');
        const dLogits = squeezeChannel(tensorInput(inputs, 'discriminatorLogits', 'semi_masked_ce'));
        const threshold = numberInput(inputs, 'threshold', options.threshold);
        // The pseudo-label and the mask are constants, as the reference's numpy round trip makes
        // them: made from detached values, argmax and the comparison are off the gradient tape.
        const pseudo = nn.stopGradient(logits).argMax(-1);
        const confident = nn.stopGradient(dLogits).sigmoid().greaterEqual(threshold).toFloat();
        const { ce } = pixelCrossEntropy(logits, pseudo, -1);
        const { mean, count } = maskedMean(ce, confident);
        // Ratio and signal stay tensors: nothing is read back inside the training step.
        return { loss: mean, stats: { semi_ratio: count.div(confident.size) as Scalar }, signal: count.greater(0).toFloat() as Scalar };
      },
    };
  },
});
