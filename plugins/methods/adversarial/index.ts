/**
 * The adversarial method pack (Hung et al., BMVC 2018): its trainers, discriminator and losses, and
 * the extension points they need, which the core does not have: the `discriminator` kind and the
 * slots of the discriminator, its optimizer and its schedule.
 */
import { definePack } from '../../../src/index.js';
import { adversarialTrainer } from './adversarial.js';
import { adversarialSemiTrainer } from './adversarial-semi.js';
import { fcdiscDiscriminator } from './fcdisc.js';
import { bceAdvLoss } from './bce-adv.js';
import { semiMaskedCeLoss } from './semi-masked-ce.js';

export type { Discriminator } from './discriminator.js';
export { adversarialTrainer, adversarialSemiTrainer, fcdiscDiscriminator, bceAdvLoss, semiMaskedCeLoss };
export { FcDiscriminator } from './fcdisc.js';

export const adversarialPack = definePack({
  name: 'adversarial',
  plugins: [adversarialTrainer, adversarialSemiTrainer, fcdiscDiscriminator, bceAdvLoss, semiMaskedCeLoss],
  kinds: ['discriminator'],
  slots: {
    discriminator: { kind: 'discriminator', description: 'The discriminator of adversarial training.' },
    discriminator_optimizer: { kind: 'optimizer', target: 'discriminator', description: "Optimises the discriminator's parameters." },
    discriminator_scheduler: { kind: 'scheduler', target: 'discriminator_optimizer', default: { type: 'constant' }, description: "Sets the discriminator optimizer's learning rate." },
  },
});
