/**
 * Turning a resolved config into MLflow params. Params are compared as strings and are
 * write-once, so every value is serialised one canonical way: strings as-is, numbers with
 * `String()`, booleans and null as words, lists as JSON (a list is one hyperparameter, e.g.
 * dilation rates `[6,12]`, so it is not exploded into `.0`/`.1` keys).
 */
export function flattenParams(config: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (config !== null && typeof config === 'object' && !Array.isArray(config)) {
    const entries = Object.entries(config as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = '{}';
    for (const [k, v] of entries) flattenParams(v, prefix ? `${prefix}.${k}` : k, out);
    return out;
  }
  if (!prefix) return out;
  out[prefix] = canonical(config);
  return out;
}

function canonical(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/**
 * A short run name from a sweep cell's diff against the sweep's base config, e.g.
 * `{ 'dataset.labeled_fraction': 0.125, trainer: 'adv' }` → `labeled_fraction=0.125,trainer=adv`
 * (the last segment of each dotted key keeps names readable in the MLflow run table).
 */
export function runNameFromDiff(diff: Record<string, unknown>, maxLength = 120): string {
  const parts = Object.entries(flattenParams(diff)).map(([k, v]) => `${k.split('.').pop()}=${v}`);
  const name = parts.join(',') || 'base';
  return name.length > maxLength ? `${name.slice(0, maxLength - 3)}...` : name;
}
