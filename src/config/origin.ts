/**
 * Where a resolved value came from. Every node of a resolved config has one Origin, plus the chain
 * of origins it overrode (most recent first), so `ablate explain` can answer "who set this, and
 * what did it replace" across `extends`, `--set`, env vars, sweep cells and schema defaults.
 */
export type OriginKind = 'file' | 'set' | 'env' | 'ref' | 'sweep' | 'default';

export interface Origin {
  kind: OriginKind;
  /** Source file (absolute) of the text that produced the value. */
  file?: string;
  /** 1-based position of the value node. */
  line?: number;
  column?: number;
  /** 1-based position of the node's key (unknown-key errors point here). */
  keyLine?: number;
  keyColumn?: number;
  /** The `--set` flag, verbatim. */
  flag?: string;
  /** Environment variable name for `${env:NAME}`. */
  env?: string;
  /**
   * The environment references as written (`${env:NAME,default}`), for a value that is one
   * (kind `env`) or a string that contains some (kind `ref`): what a run records instead of the value.
   */
  envReferences?: string[];
  /** The `${a.b}` reference the value came through. */
  ref?: string;
  /** Free text: `variant fast`, `grid axis seed`, `default of scheduler 'poly'`. */
  note?: string;
}

export interface Provenance {
  origin: Origin;
  /** What this value replaced, most recent first. */
  overrode: Origin[];
}

/** A short human description: `exp.yaml:12:3`, `--set a.b=1`, `env FOO (exp.yaml:3:9)`, `schema default`. */
export function describeOrigin(o: Origin, relativeTo?: (file: string) => string): string {
  const rel = relativeTo ?? ((f: string) => f);
  const at = o.file !== undefined ? `${rel(o.file)}${o.line !== undefined ? `:${o.line}:${o.column ?? 1}` : ''}` : undefined;
  // A note on a written value (a rebased path, a switched type) follows it in parentheses.
  const note = o.note ? ` (${o.note})` : '';
  switch (o.kind) {
    case 'file':
      return (at ?? '(file)') + note;
    case 'set':
      return (o.flag ?? '--set') + note;
    case 'env':
      return `env ${o.env}${at ? ` (read at ${at})` : o.flag ? ` (in ${o.flag})` : ''}${note}`;
    case 'ref':
      return `\${${o.ref}}${at ? ` at ${at}` : o.flag ? ` in ${o.flag}` : ''}${o.note ? ` ← ${o.note}` : ''}`;
    case 'sweep':
      return `sweep ${o.note ?? ''}${at ? ` (${at})` : ''}`.trim();
    case 'default':
      return o.note ?? 'schema default';
  }
}
