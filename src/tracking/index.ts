/**
 * What plugins need of tracking (re-exported by src/index.ts): the record they may read or replay,
 * its metric-value encoding, and the system tags. The sink contract itself is in
 * plugin/contracts.ts. The engine and the CLI import the rest from the modules directly.
 */
export { readEventsFrom, readRecord, recordPaths, type RunRecord, type MetricHistoryPoint } from './record.js';
export { encodeMetricValue, decodeMetricValue } from './metric-values.js';
