/**
 * What plugins need of tracking (re-exported by src/index.ts): the record they may read or replay,
 * its metric-value encoding, the system tags, and URL credential masking (for messages that show a URL). The sink contract itself is in
 * plugin/contracts.ts. The engine and the CLI import the rest from the modules directly.
 */
export { readEventsFrom, readRecord, recordPaths, type RunRecord, type MetricHistoryPoint } from './record.js';
export { encodeMetricValue, decodeMetricValue } from './metric-values.js';
export { maskUrlCredentials } from './secrets.js';
