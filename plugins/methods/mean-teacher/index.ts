/**
 * The mean-teacher method pack: the `mean_teacher` trainer (an EMA teacher it owns), the mix-mask
 * generators CutMix (French et al., BMVC 2020) and ClassMix (Olsson et al., WACV 2021), and the two
 * confidence-weighted consistency losses of their released code. It adds the `mix_mask` kind and
 * slot; everything else is the public API.
 */
import { definePack } from '../../../src/index.js';
import { meanTeacherTrainer } from './mean-teacher.js';
import { cutmixMask } from './cutmix.js';
import { classmixMask } from './classmix.js';
import { pseudoLabelCeLoss, probMseLoss } from './consistency.js';

export type { MixMaskGenerator, MixBatch } from './mix-mask.js';
export { meanTeacherTrainer, cutmixMask, classmixMask, pseudoLabelCeLoss, probMseLoss };

export const meanTeacherPack = definePack({
  name: 'mean-teacher',
  plugins: [meanTeacherTrainer, cutmixMask, classmixMask, pseudoLabelCeLoss, probMseLoss],
  kinds: ['mix_mask'],
  slots: {
    mix_mask: { kind: 'mix_mask', description: 'How the mean-teacher trainer mixes pairs of unlabeled images (cutmix, classmix).' },
  },
});
