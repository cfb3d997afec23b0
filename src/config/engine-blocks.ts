/**
 * The experiment blocks the engine reads (not components): when and what to evaluate, when to
 * checkpoint, where runs go, how progress shows. They are part of the experiment's schema, so they
 * live with the config language, which composes them in (./schema.ts); the engine reads them
 * through `engineSettings` (src/engine/schema.ts), whose defaults come from here.
 */
import type { JsonSchema } from '../plugin/define.js';

export const engineBlocksSchema: Record<'evaluation' | 'checkpoint' | 'output' | 'progress', JsonSchema> = {
  evaluation: {
    type: 'object',
    description: 'Periodic evaluation on the dataset\'s evaluation split with every metric in `metrics:`.',
    properties: {
      every: { type: 'integer', minimum: 0, default: 0, description: 'Evaluate every N iterations (0 = only at the end of training).' },
      limit: { type: ['integer', 'null'], minimum: 1, default: null, description: 'Evaluate on the first N images only (null = the whole split).' },
      at_end: { type: 'boolean', default: true, description: 'Evaluate once more when training ends.' },
      headline: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Evaluation scalars (by the names the metrics report) that the sweep summary, `ablate report` and the quickstart show; empty = the first scalar without a \'/\' in its name.' },
      // No schema default: a default would enter every resolved config and change its hash.
      network: { type: 'string', description: "Which network to score: a slot holding a network or the name of one of the trainer's own networks (e.g. an EMA teacher). Default: `model`." },
    },
    additionalProperties: false,
    default: {},
  },
  checkpoint: {
    type: 'object',
    description: 'Checkpoints (all networks, optimizer states, stream positions) for resume and evaluation.',
    properties: {
      every: { type: 'integer', minimum: 0, default: 1000, description: 'Write a checkpoint every N iterations (0 = only at the end).' },
      keep_last: { type: 'integer', minimum: 1, default: 2, description: 'How many checkpoints to keep in the run folder (older ones are deleted).' },
    },
    additionalProperties: false,
    default: {},
  },
  output: {
    type: 'object',
    description: 'Where run folders go: `<dir>/<experiment name>/<run name>-<hash8>/`.',
    properties: {
      dir: { type: 'string', default: 'runs', description: 'Root folder of run folders, relative to the current directory.' },
      // No default (the engine reads absent as false): every experiment's resolved hash stays.
      allow_outside: {
        type: 'boolean',
        description: 'Allow run folders outside the current directory and the experiment file\'s folder (`dir: ../elsewhere`, an absolute path). Without it such a `dir` is an error; an absolute `--set output.dir=…` or `--run-dir` on the command line needs no opt-in.',
      },
      // No default: an absent list keeps every experiment's resolved hash as it was.
      record_env: {
        type: 'array',
        items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
        uniqueItems: true,
        description: 'Environment variables whose values may be recorded. A value that came from `${env:NAME}` is written to config.yaml, the run record and trackers as `${env:NAME}` unless NAME is listed here (it re-resolves from the environment on resume).',
      },
    },
    additionalProperties: false,
    default: {},
  },
  progress: {
    type: 'object',
    description: 'Console progress while training.',
    properties: {
      bar: { type: 'string', enum: ['auto', 'always', 'never'], default: 'auto', description: 'Progress bar: `auto` shows it only on a terminal; otherwise a log line every `log_every` iterations.' },
      log_every: { type: 'integer', minimum: 0, default: 0, description: 'Iterations between log lines when there is no bar (0 = about 20 lines per run).' },
    },
    additionalProperties: false,
    default: {},
  },
};
