import { definePlugin } from '../../../src/index.js';
import { createAdversarialTrainer, type AdversarialOptions } from './step.js';
import { trainerBaseSchema } from '../common.js';

export const adversarialSemiSchemaProperties = {
  ...trainerBaseSchema,
  lambda_adv: {
    type: 'number',
    minimum: 0,
    default: 0.01,
    // A loss weight: a resume may change it (docs/engine.md, "Resuming with changed optimisation values").
    'x-resumable': true,
    description: 'λ_adv, weight of the adversarial loss on labeled predictions (README/paper: 0.01; the released code\'s CLI default is 0.1).',
  },
  lambda_semi_adv: {
    type: 'number',
    minimum: 0,
    default: 0.001,
    'x-resumable': true,
    description: 'λ_semi_adv, weight of the adversarial loss on unlabeled predictions (BMVC code: 0.001; the arXiv-v1 code had none: 0).',
  },
  lambda_semi: { type: 'number', minimum: 0, default: 0.1, 'x-resumable': true, description: 'λ_semi, weight of the self-training loss on confident pseudo-labels (0.1).' },
  t_semi: { type: 'number', minimum: 0, maximum: 1, default: 0.2, description: 'T_semi (mask_T): pixels with σ(D) below it are ignored by the self-training loss (reference 0.2; the reproduction repo used 0.1).' },
  semi_start: { type: 'integer', minimum: 0, default: 5000, description: 'First iteration of the self-training loss (reference: 5000).' },
  semi_start_adv: { type: 'integer', minimum: 0, default: 0, description: 'First iteration of the unlabeled branch (its adversarial term); reference: 0.' },
  d_remain: {
    type: 'boolean',
    default: true,
    description: 'Train the discriminator on unlabeled predictions too (BMVC code: true; the paper text and arXiv-v1 code: labeled only).',
  },
  skip_empty_semi: {
    type: 'boolean',
    default: true,
    description: 'When no unlabeled pixel passes T_semi, backpropagate nothing for the unlabeled batch, not even its adversarial term (released code: true); false keeps the adversarial term.',
  },
} as const;

/** AdvSemiSeg (Hung et al. 2018), BMVC code defaults. */
export const adversarialSemiTrainer = definePlugin<'trainer', AdversarialOptions>({
  kind: 'trainer',
  type: 'adversarial-semi',
  description: 'Adversarial semi-supervised segmentation (AdvSemiSeg): CE + adversarial loss on labeled data, adversarial + confident self-training on unlabeled data.',
  options: { type: 'object', properties: adversarialSemiSchemaProperties, additionalProperties: false },
  create: (options, ctx) => createAdversarialTrainer(options, ctx),
});
