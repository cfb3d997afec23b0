import { definePlugin } from '../../src/index.js';

/** The run folder's record, nothing else (the record is written for every run anyway). */
export const localTracker = definePlugin<'tracker', Record<string, never>>({
  kind: 'tracker',
  type: 'local',
  description:
    'Nothing besides the run folder\'s record (tracking/record.jsonl), which every run keeps. `ablate report` reads it; `ablate sync --to mlflow` sends it to an MLflow server later.',
  options: { type: 'object', properties: {}, additionalProperties: false },
  create() {
    return { startRun: async () => ({}) };
  },
});
