/**
 * The `mlflow` tracker: runs go to an MLflow tracking server over its REST API, shipped from the
 * local record in background batches (see sink.ts).
 */
import { definePlugin } from '../../../src/index.js';
import { MlflowSink } from './sink.js';

export { MlflowSink, resolveTrackingUri, type MlflowSinkOptions } from './sink.js';

interface MlflowOptions {
  tracking_uri?: string;
  flush_interval_ms: number;
  flush_timeout_s: number;
  start_timeout_s: number;
}

export const mlflowTracker = definePlugin<'tracker', MlflowOptions>({
  kind: 'tracker',
  type: 'mlflow',
  description:
    'Logs runs to an MLflow tracking server (REST). Everything is in the run folder first and shipped in the background, so a server outage loses nothing; `ablate sync --to mlflow` replays what did not arrive.',
  options: {
    type: 'object',
    properties: {
      tracking_uri: {
        type: 'string',
        description: 'URL of the MLflow server, e.g. http://127.0.0.1:5000. Defaults to the MLFLOW_TRACKING_URI environment variable.',
      },
      flush_interval_ms: { type: 'integer', minimum: 50, default: 1000, description: 'How often logged data is sent to the server, in milliseconds.' },
      flush_timeout_s: { type: 'number', minimum: 0, default: 60, description: 'How long the end of a run waits for the server to take everything before leaving the rest to `ablate sync`.' },
      start_timeout_s: { type: 'number', minimum: 0, default: 10, description: 'How long starting a run waits to create it on the server before carrying on locally.' },
    },
    additionalProperties: false,
  },
  create(o, ctx) {
    return new MlflowSink({
      trackingUri: o.tracking_uri,
      uriKey: `${ctx.slot}.tracking_uri`,
      intervalMs: o.flush_interval_ms,
      flushTimeoutMs: o.flush_timeout_s * 1000,
      startTimeoutMs: o.start_timeout_s * 1000,
      log: ctx.log,
    });
  },
});
