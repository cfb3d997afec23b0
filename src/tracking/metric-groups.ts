/**
 * What each metric the engine records is: a training value, an evaluation result, bookkeeping, or
 * a system metric. The local record keeps the names the engine logs (so `ablate report`, `ablate
 * runs` and old records read as they always did); a tracker that shows many runs side by side
 * (MLflow) can put each group under its own prefix so results are not buried under bookkeeping.
 *
 * The groups follow from the engine's events: one metrics event per evaluation (it always carries
 * `eval/seconds`), one per iteration (losses, learning rates, `it_per_sec`), one sample of the
 * machine (`system/…`, MLflow's own names for its System metrics tab) and one at the end.
 */

/** The engine's bookkeeping metrics: how the run went, not what it learned. */
export const BOOKKEEPING_METRICS = {
  itPerSec: 'it_per_sec',
  itPerSecMean: 'train/it_per_sec_mean',
  badSamples: 'data/bad_samples',
  evalSeconds: 'eval/seconds',
  evalImages: 'eval/images',
} as const;

const BOOKKEEPING = new Set<string>(Object.values(BOOKKEEPING_METRICS));

/** `train`: losses, learning rates, a trainer's ratios; `val`: evaluation metrics; `sys`: bookkeeping; `system`: the machine. */
export type MetricGroup = 'train' | 'val' | 'sys' | 'system';

/** The group of `key` in a metrics event holding `event`'s keys. */
export function metricGroup(key: string, event: Readonly<Record<string, unknown>>): MetricGroup {
  if (key.startsWith('system/')) return 'system';
  if (BOOKKEEPING.has(key)) return 'sys';
  return BOOKKEEPING_METRICS.evalSeconds in event ? 'val' : 'train';
}
