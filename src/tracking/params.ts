import { flattenParams } from '../config/canonical.js';

/**
 * A short run name from a sweep cell's diff against the sweep's base config, e.g.
 * `{ 'optimizer.lr': 0.01, trainer: 'adv' }` → `lr=0.01,trainer=adv`
 * (the last segment of each dotted key keeps names readable in the MLflow run table).
 */
export function runNameFromDiff(diff: Record<string, unknown>, maxLength = 120): string {
  const parts = Object.entries(flattenParams(diff)).map(([k, v]) => `${k.split('.').pop()}=${v}`);
  const name = parts.join(',') || 'base';
  return name.length > maxLength ? `${name.slice(0, maxLength - 3)}...` : name;
}
