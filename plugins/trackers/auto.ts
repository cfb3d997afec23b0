import { definePlugin, type TrackingSink } from '../../src/index.js';
import { MlflowSink } from './mlflow/index.js';

interface AutoOptions {
  tracking_uri?: string;
}

/** MLflow when a server is configured, the local record alone otherwise: the sensible default. */
export const autoTracker = definePlugin<'tracker', AutoOptions>({
  kind: 'tracker',
  type: 'auto',
  description:
    'The `mlflow` tracker when a tracking URI is set (option or MLFLOW_TRACKING_URI), else nothing besides the run folder\'s record (`ablate sync --to mlflow` sends it later).',
  options: {
    type: 'object',
    properties: {
      tracking_uri: { type: 'string', description: 'URL of the MLflow server. Defaults to the MLFLOW_TRACKING_URI environment variable; when neither is set, runs are only recorded locally.' },
    },
    additionalProperties: false,
  },
  create(o, ctx): TrackingSink {
    const uri = o.tracking_uri ?? process.env.MLFLOW_TRACKING_URI;
    if (uri) return new MlflowSink({ trackingUri: uri, uriKey: `${ctx.slot}.tracking_uri`, log: ctx.log });
    ctx.log.info('no MLFLOW_TRACKING_URI: runs are recorded in their run folders only (`ablate sync --to mlflow` sends them to a server later)');
    return { startRun: async () => ({}) };
  },
});
