import { definePlugin, MlflowTracker } from '../../src/index.js';

interface MlflowOptions {
  tracking_uri?: string;
  flush_interval_ms: number;
  flush_timeout_s: number;
  start_timeout_s: number;
  system_tags: boolean;
}

/** Logs to an MLflow tracking server through the local record, shipped in background batches. */
export const mlflowTracker = definePlugin<'tracker', MlflowOptions>({
  kind: 'tracker',
  type: 'mlflow',
  description:
    'Logs runs to an MLflow tracking server (REST). Everything is written to the run folder first and shipped in the background, so a server outage loses nothing; `ablate sync` replays what did not arrive.',
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
      system_tags: { type: 'boolean', default: true, description: 'Add git commit, dirty flag, command line, user, host and Node version as tags.' },
    },
    additionalProperties: false,
  },
  create(o, ctx) {
    return new MlflowTracker({
      trackingUri: o.tracking_uri,
      intervalMs: o.flush_interval_ms,
      flushTimeoutMs: o.flush_timeout_s * 1000,
      startTimeoutMs: o.start_timeout_s * 1000,
      systemTags: o.system_tags,
      log: ctx.log,
    });
  },
});
