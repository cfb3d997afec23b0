/**
 * Metric values in the local record: JSON has no NaN/±Infinity (`JSON.stringify(NaN)` gives
 * `null`), so they are written as the strings 'NaN', 'Infinity' and '-Infinity', which is also how
 * protobuf-JSON servers (MLflow's) expect them.
 */

/** A metric value as the record stores it. */
export function encodeMetricValue(v: number): number | string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

/** Inverse of `encodeMetricValue`; also accepts what the server returns (numbers, or the strings). */
export function decodeMetricValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  return Number(v);
}
