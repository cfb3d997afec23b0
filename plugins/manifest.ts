/**
 * Every built-in plugin, in one place. Adding a built-in = one import and one entry here; there is
 * no other discovery (no import side effects, no directory scanning).
 */
import type { AnyPlugin } from '../src/index.js';
import { constantScheduler } from './schedulers/constant.js';
import { mlflowTracker } from './trackers/mlflow.js';
import { localTracker } from './trackers/local.js';
import { consoleTracker } from './trackers/console.js';

export const builtinPlugins: readonly AnyPlugin[] = [
  // schedulers
  constantScheduler,
  // trackers
  mlflowTracker,
  localTracker,
  consoleTracker,
];
