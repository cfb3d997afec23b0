/**
 * The tracking API offered to plugins (through src/index.ts) and to the CLI commands.
 */
export { MlflowClient, MlflowError, chunkBatch, fromKv, toKv } from './mlflow-client.js';
export type { MlflowClientOptions, MlflowRun, MlflowRunInfo, MlflowExperiment, MetricPoint, LogBatch, KeyValue, ArtifactFile } from './mlflow-client.js';
export { LIMITS, isValidKey, sanitizeKey, encodeMetricValue, decodeMetricValue } from './limits.js';
export { RecordWriter, readRecord, isRunDir, recordPaths, newRunId, type RunRecord, type RecordEvent } from './record.js';
export { Shipper, RUN_ID_TAG, findRunByClientId, readShipState, type ShipState } from './shipper.js';
export {
  RecordedRun,
  MlflowTracker,
  createLocalTracker,
  createConsoleTracker,
  resolveTrackingUri,
  type TrackerLog,
  type MlflowTrackerOptions,
  type LocalTrackerOptions,
  type ConsoleTrackerOptions,
} from './trackers.js';
export { systemTags } from './provenance.js';
export { runNameFromDiff } from './params.js';
export { syncRuns, findRunDirs, type SyncResult, type SyncOptions } from './sync.js';
export { runsFromMlflow } from './mlflow-runs.js';
