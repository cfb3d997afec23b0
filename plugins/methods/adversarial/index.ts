/** The adversarial method pack (Hung et al., BMVC 2018): its trainers, discriminator and losses. */
export { adversarialTrainer } from './adversarial.js';
export { adversarialSemiTrainer } from './adversarial-semi.js';
export { fcdiscDiscriminator, FcDiscriminator } from './fcdisc.js';
export { bceAdvLoss } from './bce-adv.js';
export { semiMaskedCeLoss } from './semi-masked-ce.js';
