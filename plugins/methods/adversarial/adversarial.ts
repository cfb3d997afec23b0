import { definePlugin } from '../../../src/index.js';
import { createAdversarialTrainer } from './step.js';
import { adversarialSemiSchemaProperties } from './adversarial-semi.js';
import { trainerBaseSchema } from '../common.js';

interface AdversarialOnlyOptions {
  iterations: number;
  batch_size: number;
  lambda_adv: number;
}

/**
 * Adversarial training on labeled data only (the paper's "+ adversarial" rows): the adversarial-semi
 * iteration with λ_semi = λ_semi_adv = 0 and the discriminator trained on labeled predictions only.
 */
export const adversarialTrainer = definePlugin<'trainer', AdversarialOnlyOptions>({
  kind: 'trainer',
  type: 'adversarial',
  description: 'Segmentation CE plus an adversarial loss from a fully-convolutional discriminator, labeled data only.',
  options: {
    type: 'object',
    properties: { ...trainerBaseSchema, lambda_adv: adversarialSemiSchemaProperties.lambda_adv },
    additionalProperties: false,
  },
  create: (options, ctx) =>
    createAdversarialTrainer(
      { ...options, lambda_semi: 0, lambda_semi_adv: 0, t_semi: 0.2, semi_start: 0, semi_start_adv: 0, d_remain: false, skip_empty_semi: true },
      ctx,
    ),
});
