/** The built-in transforms, for the manifest. */
export { randomScaleTransform, randomScale, drawScale } from './random-scale.js';
export { randomCropTransform, randomCrop, randomScaleCrop } from './random-crop.js';
export { mirrorTransform, mirror } from './mirror.js';
export { normalizeTransform, normalize, meanAsRgb } from './normalize.js';
export { padTransform, pad } from './pad.js';
export { resizeTransform, resize } from './resize.js';
