import { definePlugin, createLocalTracker } from '../../src/index.js';

/** The default without MLFLOW_TRACKING_URI: the run folder's record, nothing else. */
export const localTracker = definePlugin<'tracker', { system_tags: boolean }>({
  kind: 'tracker',
  type: 'local',
  description:
    'Keeps params, metrics, tags and artifacts in the run folder only (tracking/record.jsonl). `ablate report` reads it; `ablate sync` sends it to an MLflow server later.',
  options: {
    type: 'object',
    properties: {
      system_tags: { type: 'boolean', default: true, description: 'Add git commit, dirty flag, command line, user, host and Node version as tags.' },
    },
    additionalProperties: false,
  },
  create(o, ctx) {
    return createLocalTracker({ systemTags: o.system_tags, log: ctx.log });
  },
});
