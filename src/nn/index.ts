/** Generic layers (no model knowledge): PyTorch-compatible conv/pool/BN/resize and parameters. */
export { ParamStore, type ParamOptions } from './params.js';
export { normal, torchDefaultUniform, constant } from './init.js';
export { conv2d, convTranspose2d, type ConvSpec } from './conv.js';
export { maxPool2d, pooledSize } from './pool.js';
export { resizeBilinearAlignCorners } from './resize.js';
export { BatchNorm2d, TORCH_BN_DEFAULTS, type BatchNormPolicy } from './batchnorm.js';
export { atrousConv2d } from './atrous.js';
export { relu, leakyRelu } from './activations.js';
export { softmaxCrossEntropy } from './loss.js';
export { stopGradient } from './stop-gradient.js';
export { nativeOps, type NativeOps } from './native.js';
