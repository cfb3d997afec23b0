import { definePlugin } from '../../../src/index.js';
import { trainerBaseSchema } from '../common.js';
import { createMeanTeacherTrainer, type MeanTeacherOptions } from './trainer.js';

const CUTMIX = 'Britefury/cutmix-semisup-seg';
const CLASSMIX = 'WilhelmT/ClassMix';

export const meanTeacherTrainer = definePlugin<'trainer', MeanTeacherOptions>({
  kind: 'trainer',
  type: 'mean_teacher',
  description:
    "Mean teacher with mixed-sample consistency: CE on labeled batches plus `losses.consistency` between the student on mixed unlabeled images and the EMA teacher's mixed prediction; masks from the `mix_mask` slot (CutMix, ClassMix).",
  options: {
    type: 'object',
    properties: {
      ...trainerBaseSchema,
      batch_size: {
        ...trainerBaseSchema.batch_size,
        description: `Images per batch, labeled and unlabeled alike (${CUTMIX} run_pascal_aug_experiments.sh:14 --batch_size=10; ${CLASSMIX} configs/configVOC.json batch_size 10).`,
      },
      ema_decay: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        default: 0.99,
        description: `EMA decay α of the teacher (${CUTMIX} train_seg_semisup_mask_mt.py:597 --teacher_alpha=0.99; ${CLASSMIX} trainSSL.py:498 alpha_teacher = 0.99).`,
      },
      ema_warmup: {
        type: 'boolean',
        default: false,
        description: `Use the true average while it is smaller: α = min(1 − 1/(i+1), ema_decay) (${CLASSMIX} trainSSL.py:118); false: the constant α of ${CUTMIX} optim_weight_ema.py:21-25.`,
      },
      ema_buffers: {
        type: 'boolean',
        default: true,
        description: `Average the batch-norm statistics too, every float tensor of the state dict (${CUTMIX} optim_weight_ema.py:9-10); false: the trainable parameters only, the teacher's statistics following its own forward passes in training mode (${CLASSMIX} trainSSL.py:123-124, model.parameters()).`,
      },
    },
    additionalProperties: false,
  },
  create: (o, ctx) => createMeanTeacherTrainer(o, ctx),
});
