import { definePlugin, createConsoleTracker } from '../../src/index.js';

/** Prints what is logged; also keeps the local record so report and sync still work. */
export const consoleTracker = definePlugin<'tracker', { every: number; system_tags: boolean }>({
  kind: 'tracker',
  type: 'console',
  description: 'Prints params and metrics to the terminal as they are logged, and keeps the same local record as the `local` tracker.',
  options: {
    type: 'object',
    properties: {
      every: { type: 'integer', minimum: 1, default: 1, description: 'Print the metrics of every n-th logging call only.' },
      system_tags: { type: 'boolean', default: true, description: 'Add git commit, dirty flag, command line, user, host and Node version as tags.' },
    },
    additionalProperties: false,
  },
  create(o, ctx) {
    return createConsoleTracker({ every: o.every, systemTags: o.system_tags, log: ctx.log });
  },
});
