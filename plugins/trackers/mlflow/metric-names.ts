/**
 * Metric names as MLflow shows them: the record's names under one prefix per group
 * (docs/tracking.md, "What reaches MLflow"), so the runs table and the run page list evaluation
 * results apart from losses and from bookkeeping:
 *
 *   evaluation results            miou, iou/aeroplane      → val/miou, val/iou/aeroplane
 *   training values               loss_seg, lr/backbone    → train/loss_seg, train/lr/backbone
 *   bookkeeping                   it_per_sec, eval/seconds → sys/it_per_sec, sys/eval/seconds
 *                                 train/it_per_sec_mean    → sys/it_per_sec_mean
 *   the machine (MLflow's names)  system/…                 → unchanged
 *
 * A name that already starts with one of the prefixes is sent as it is. Only what is sent is
 * renamed: the local record, `ablate report` on a run folder and runs shipped before keep the
 * plain names, and reading runs back (`ablate report --from mlflow`) offers both.
 */
import { BOOKKEEPING_METRICS, metricGroup } from '../../../src/index.js';

const PREFIXES = ['train/', 'val/', 'sys/', 'system/'] as const;

function prefixed(key: string): boolean {
  return PREFIXES.some((p) => key.startsWith(p));
}

/** The MLflow name of `key` in a metrics event holding `event`'s keys. */
export function mlflowMetricKey(key: string, event: Readonly<Record<string, unknown>>): string {
  if (prefixed(key) && key !== BOOKKEEPING_METRICS.itPerSecMean) return key;
  const group = metricGroup(key, event);
  if (group === 'system') return key;
  if (key === BOOKKEEPING_METRICS.itPerSecMean) return 'sys/it_per_sec_mean';
  return `${group}/${key}`;
}

const FROM_SYS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(BOOKKEEPING_METRICS).map((k) => [k === BOOKKEEPING_METRICS.itPerSecMean ? 'sys/it_per_sec_mean' : `sys/${k}`, k]),
);

/**
 * The record's name of a metric read from MLflow (the inverse of `mlflowMetricKey` for the names
 * it makes), or undefined when the name carries no prefix to drop (a run shipped before the
 * prefixes, or MLflow's `system/` metrics).
 */
export function recordMetricKey(mlflowKey: string): string | undefined {
  if (FROM_SYS[mlflowKey]) return FROM_SYS[mlflowKey];
  for (const p of ['train/', 'val/'] as const) if (mlflowKey.startsWith(p) && mlflowKey.length > p.length) return mlflowKey.slice(p.length);
  return undefined;
}
