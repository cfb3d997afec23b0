/**
 * The kind this pack adds: a discriminator, the network that tells the segmentation network's
 * class-probability maps from the ground truth's one-hot maps (Hung et al., BMVC 2018, §3.1). The
 * core knows no discriminator; the augmentation below makes `ctx.get('discriminator',
 * 'discriminator')` and `definePlugin<'discriminator'>` typed for everyone who imports this pack.
 */
import type { Network, Tensor4D } from '../../../src/index.js';

export interface Discriminator extends Network {
  /**
   * Confidence logits N×H×W×1 at the input's height and width (the network runs at reduced
   * resolution and upsamples bilinearly, as the reference implementation does).
   */
  apply(classProbabilities: Tensor4D, opts: { training: boolean }): Tensor4D;
}

declare module '../../../src/index.js' {
  interface ComponentOf {
    discriminator: Discriminator;
  }
}
