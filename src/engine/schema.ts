/**
 * The engine's reading of its blocks (`evaluation`, `checkpoint`, `output`, `progress`; schema in
 * src/config/engine-blocks.ts). Every default comes from that schema, so a hand-built config
 * (without the schema's defaults applied) runs exactly as a validated one.
 */
import { engineBlocksSchema } from '../config/engine-blocks.js';

type Block = keyof typeof engineBlocksSchema;

/** A block's options: what the config gives, else the schema's default for each option. */
function block(config: Record<string, unknown>, key: Block): Record<string, unknown> {
  const v = config[key];
  const given = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : {};
  const props = (engineBlocksSchema[key].properties ?? {}) as Record<string, { default?: unknown }>;
  const out: Record<string, unknown> = {};
  for (const [name, prop] of Object.entries(props)) out[name] = name in given ? given[name] : prop.default;
  return out;
}

export interface EngineSettings {
  evaluation: { every: number; limit: number | null; atEnd: boolean; headline: string[]; network: string };
  checkpoint: { every: number; keepLast: number };
  /** allowOutside: `output.allow_outside` (no schema default, so absent = false and hashes stay). */
  output: { dir: string; allowOutside: boolean };
  progress: { bar: 'auto' | 'always' | 'never'; logEvery: number };
}

/** The engine blocks with the schema's defaults applied. */
export function engineSettings(config: Record<string, unknown>): EngineSettings {
  const ev = block(config, 'evaluation');
  const ck = block(config, 'checkpoint');
  const out = block(config, 'output');
  const pr = block(config, 'progress');
  return {
    evaluation: {
      every: ev.every as number,
      limit: (ev.limit ?? null) as number | null,
      atEnd: ev.at_end as boolean,
      headline: ev.headline as string[],
      // Deliberately no schema default (it would enter every resolved config and its hash).
      network: (ev.network ?? 'model') as string,
    },
    checkpoint: { every: ck.every as number, keepLast: ck.keep_last as number },
    output: { dir: out.dir as string, allowOutside: out.allow_outside === true },
    progress: { bar: pr.bar as EngineSettings['progress']['bar'], logEvery: pr.log_every as number },
  };
}
