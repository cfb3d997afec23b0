/** The built-in datasets, for the manifest. */
export { vocDataset } from './voc.js';
export { miniVocDataset } from './mini-voc/index.js';
export { cityscapesDataset } from './cityscapes.js';
