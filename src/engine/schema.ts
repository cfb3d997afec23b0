/**
 * The experiment blocks the engine itself reads (not components): when to evaluate, when to
 * checkpoint, where runs go. The config language composes these into the experiment schema; the
 * engine also applies the same defaults itself so that a hand-built config runs too.
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
      headline: { type: 'array', items: { type: 'string', minLength: 1 }, default: [], description: 'Evaluation scalars the sweep summary, `ablate report` and the quickstart show (e.g. [miou]); empty = the first scalar without a \'/\' in its name.' },
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

export interface EngineSettings {
  evaluation: { every: number; limit: number | null; atEnd: boolean; headline: string[]; network: string };
  checkpoint: { every: number; keepLast: number };
  output: { dir: string };
  progress: { bar: 'auto' | 'always' | 'never'; logEvery: number };
}

function block(config: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = config[key];
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
}

function num(v: unknown, fallback: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

/** The engine blocks with defaults applied (same defaults as the schema). */
export function engineSettings(config: Record<string, unknown>): EngineSettings {
  const ev = block(config, 'evaluation');
  const ck = block(config, 'checkpoint');
  const out = block(config, 'output');
  const pr = block(config, 'progress');
  const bar = pr.bar === 'always' || pr.bar === 'never' ? pr.bar : 'auto';
  return {
    evaluation: { every: num(ev.every, 0), limit: typeof ev.limit === 'number' ? ev.limit : null, atEnd: ev.at_end !== false, headline: Array.isArray(ev.headline) ? ev.headline.filter((k): k is string => typeof k === 'string') : [], network: typeof ev.network === 'string' ? ev.network : 'model' },
    checkpoint: { every: num(ck.every, 1000), keepLast: Math.max(1, num(ck.keep_last, 2)) },
    output: { dir: typeof out.dir === 'string' ? out.dir : 'runs' },
    progress: { bar, logEvery: num(pr.log_every, 0) },
  };
}
