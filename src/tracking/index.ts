/**
 * What plugins need of tracking (re-exported by src/index.ts): the record they may read or replay,
 * its metric-value encoding and the groups of its metrics, the system tags, and URL credential masking (for messages that show a URL). The sink contract itself is in
 * plugin/contracts.ts. The engine and the CLI import the rest from the modules directly.
 */
export { readEventsFrom, readRecord, recordPaths, type RunRecord, type MetricHistoryPoint } from './record.js';
export { encodeMetricValue, decodeMetricValue } from './metric-values.js';
export { BOOKKEEPING_METRICS, metricGroup, type MetricGroup } from './metric-groups.js';
export { maskUrlCredentials } from './secrets.js';
