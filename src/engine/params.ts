/**
 * The resolved config as MLflow params: dotted keys, scalar values as strings, lists as JSON.
 * (Kept here so the engine does not depend on the config language's internals.)
 */
export function flattenParams(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 0 && prefix) out[prefix] = '{}';
    for (const [k, v] of entries) flattenParams(v, prefix ? `${prefix}.${k}` : k, out);
    return out;
  }
  if (!prefix) return out;
  out[prefix] = Array.isArray(value) ? JSON.stringify(value) : value === null ? 'null' : String(value);
  return out;
}
