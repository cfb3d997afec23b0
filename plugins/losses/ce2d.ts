import { definePlugin } from '../../src/index.js';
import { maskedMean, pixelCrossEntropy, tensorInput } from './common.js';

interface Ce2dOptions {
  ignore_index: number;
}

/**
 * 2-D cross-entropy: mean over the pixels whose label is a class (not `ignore_index`), 0 when there
 * are none. Inputs: `logits` N×H×W×C, `labels` N×H×W int32.
 */
export const ce2dLoss = definePlugin<'loss', Ce2dOptions>({
  kind: 'loss',
  type: 'ce2d',
  description: 'Pixel-wise cross-entropy averaged over labeled pixels (the reference CrossEntropy2d).',
  options: {
    type: 'object',
    properties: {
      ignore_index: { type: 'integer', default: 255, description: 'Label value excluded from the loss and from the average (VOC void/padding).' },
    },
    additionalProperties: false,
  },
  create(options) {
    return {
      compute(inputs) {
        const logits = tensorInput(inputs, 'logits', 'ce2d');
        const labels = tensorInput(inputs, 'labels', 'ce2d');
        const { ce, keep } = pixelCrossEntropy(logits, labels, options.ignore_index);
        const { mean, count } = maskedMean(ce, keep);
        return { loss: mean, stats: { pixels: count } };
      },
    };
  },
});
