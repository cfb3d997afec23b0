/**
 * Every built-in plugin, in one place. Adding a built-in = one import and one entry here; there is
 * no other discovery (no import side effects, no directory scanning).
 */
import type { AnyPlugin } from '../src/index.js';
import { constantScheduler } from './schedulers/constant.js';

export const builtinPlugins: readonly AnyPlugin[] = [
  // schedulers
  constantScheduler,
];
