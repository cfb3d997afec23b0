/**
 * The tracking API offered to plugins (through src/index.ts) and to the CLI commands.
 */
export { MlflowClient, MlflowError, chunkBatch, fromKv, toKv } from './mlflow-client.js';
export type { MlflowClientOptions, MlflowRun, MlflowRunInfo, MlflowExperiment, MetricPoint, LogBatch, KeyValue, ArtifactFile } from './mlflow-client.js';
export { LIMITS, isValidKey, sanitizeKey, encodeMetricValue, decodeMetricValue } from './limits.js';
export { RecordWriter, readRecord, readEventsFrom, isRunDir, recordPaths, newRunId, type RunRecord } from './record.js';
export { Shipper, RUN_ID_TAG, findRunByClientId, readShipState, type ShipState } from './shipper.js';
export { openTracking, trackingWith, RecordedRun, type Tracking, type NamedSink } from './open.js';
export { systemTags } from './provenance.js';
export { runNameFromDiff } from './params.js';
export { syncRuns, findRunDirs, type SyncResult, type SyncOptions } from './sync.js';
export { runsFromMlflow } from './mlflow-runs.js';
