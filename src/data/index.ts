/** Model-free data utilities: the public surface that dataset and transform plugins build on. */
export { SeededRng, mixSeed, shuffled } from './rng.js';
export { BadSampleError, decodeRgb, decodeLabel, labelColourLookup, encodeJpeg, toFloatImage, type RawImage, type RawLabel } from './decode.js';
export { encodeIndexedPng, decodeIndexedPng, type IndexedPng } from './png.js';
export { resizeBilinear, resizeNearest, resizeSample, padSample, cropSample, flipSample, cropPrediction, resizePadCropSample } from './ops.js';
export { PrefetchingBatchStream, collate, type SampleSource, type BatchStreamOptions } from './loader.js';
export { FileSegmentationDataset, identityLabelMap, type FileEntry, type FileDatasetOptions, type BadSamplePolicy } from './dataset.js';
