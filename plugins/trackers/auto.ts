import { definePlugin, MlflowTracker, createLocalTracker } from '../../src/index.js';

interface AutoOptions {
  tracking_uri?: string;
  system_tags: boolean;
}

/** MLflow when a server is configured, the local record otherwise: the sensible default. */
export const autoTracker = definePlugin<'tracker', AutoOptions>({
  kind: 'tracker',
  type: 'auto',
  description:
    'Uses the `mlflow` tracker when a tracking URI is set (option or MLFLOW_TRACKING_URI), else the `local` tracker (run folder only; `ablate sync` sends it later).',
  options: {
    type: 'object',
    properties: {
      tracking_uri: { type: 'string', description: 'URL of the MLflow server. Defaults to the MLFLOW_TRACKING_URI environment variable; when neither is set, runs are only recorded locally.' },
      system_tags: { type: 'boolean', default: true, description: 'Add git commit, dirty flag, command line, user, host and Node version as tags.' },
    },
    additionalProperties: false,
  },
  create(o, ctx) {
    const uri = o.tracking_uri ?? process.env.MLFLOW_TRACKING_URI;
    if (uri) return new MlflowTracker({ trackingUri: uri, systemTags: o.system_tags, log: ctx.log });
    ctx.log.info('no MLFLOW_TRACKING_URI: runs are recorded in their run folders only (`ablate sync` sends them to a server later)');
    return createLocalTracker({ systemTags: o.system_tags, log: ctx.log });
  },
});
