/**
 * Every built-in plugin and plugin pack, in one place. Adding a built-in = one import and one entry
 * here; there is no other discovery (no import side effects, no directory scanning). A pack brings
 * its plugins and the kinds and slots they need.
 */
import type { PluginEntry } from '../src/index.js';
import { constantScheduler } from './schedulers/constant.js';
import { polyScheduler } from './schedulers/poly.js';
import { stepScheduler } from './schedulers/step.js';
import { warmupScheduler } from './schedulers/warmup.js';
import { ce2dLoss } from './losses/ce2d.js';
import { sgdOptimizer } from './optimizers/sgd.js';
import { adamOptimizer } from './optimizers/adam.js';
import { miouMetric } from './metrics/miou.js';
import { supervisedTrainer } from './methods/supervised/trainer.js';
import { adversarialPack } from './methods/adversarial/index.js';
import { meanTeacherPack } from './methods/mean-teacher/index.js';
import { mlflowTracker } from './trackers/mlflow/index.js';
import { localTracker } from './trackers/local.js';
import { consoleTracker } from './trackers/console.js';
import { autoTracker } from './trackers/auto.js';
import { localLauncher } from './launchers/local.js';
import { slurmLauncher } from './launchers/slurm/index.js';
import { vocDataset, miniVocDataset, cityscapesDataset } from './datasets/index.js';
import { randomScaleTransform, randomCropTransform, mirrorTransform, normalizeTransform, padTransform, resizeTransform } from './transforms/index.js';
import { deeplabv2Model } from './models/deeplabv2/index.js';

export const builtinPlugins: readonly PluginEntry[] = [
  // method packs (their plugins and the kinds and slots they add)
  adversarialPack,
  meanTeacherPack,
  // schedulers
  constantScheduler,
  polyScheduler,
  stepScheduler,
  warmupScheduler,
  // losses
  ce2dLoss,
  // optimizers
  sgdOptimizer,
  adamOptimizer,
  // metrics
  miouMetric,
  // trainers
  supervisedTrainer,
  // trackers
  mlflowTracker,
  localTracker,
  consoleTracker,
  autoTracker,
  // launchers
  localLauncher,
  slurmLauncher,
  // networks
  deeplabv2Model,
  // datasets
  vocDataset,
  miniVocDataset,
  cityscapesDataset,
  // transforms
  randomScaleTransform,
  randomCropTransform,
  mirrorTransform,
  normalizeTransform,
  padTransform,
  resizeTransform,
];
