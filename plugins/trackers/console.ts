import { definePlugin, decodeMetricValue, type SinkRun, type TrackingSink } from '../../src/index.js';

interface ConsoleOptions {
  every: number;
}

/** Prints what a run records as it is recorded. */
export function consoleSink(opts: { every?: number; write?: (line: string) => void } = {}): TrackingSink {
  const write = opts.write ?? ((l: string) => process.stdout.write(`${l}\n`));
  const every = Math.max(1, opts.every ?? 1);
  return {
    async startRun(info): Promise<SinkRun> {
      write(`run ${info.name} (experiment ${info.experiment}) -> ${info.runDir}`);
      let metricCalls = 0;
      return {
        event(e) {
          if (e.t === 'params') write(`${info.name}: ${Object.keys(e.p).length} params`);
          else if (e.t === 'metrics') {
            if (metricCalls++ % every !== 0) return;
            const parts = Object.entries(e.m).map(([k, raw]) => {
              const v = decodeMetricValue(raw);
              return `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`;
            });
            write(`${info.name} step ${e.step}: ${parts.join(' ')}`);
          } else if (e.t === 'artifact') write(`${info.name}: artifact ${e.file}`);
          else if (e.t === 'end') write(`${info.name}: ${e.status}`);
        },
      };
    },
  };
}

export const consoleTracker = definePlugin<'tracker', ConsoleOptions>({
  kind: 'tracker',
  type: 'console',
  description: 'Prints params and metrics to the terminal as they are logged (the run folder keeps its record as always).',
  options: {
    type: 'object',
    properties: {
      every: { type: 'integer', minimum: 1, default: 1, description: 'Print the metrics of every n-th logging call only.' },
    },
    additionalProperties: false,
  },
  create(o) {
    return consoleSink({ every: o.every });
  },
});
