/**
 * Every `ablate` subcommand, one line each. A module exports `register(program: Command)`; it is
 * imported only when its command runs (or for `--help`), so keep heavy imports (tfjs, ajv, the
 * plugin manifest) inside the action or behind a dynamic import: `ablate validate` must start in
 * well under 300 ms. To add a command: one line here, named like the command.
 */
import type { Command } from 'commander';

export interface CommandEntry {
  name: string;
  load: () => Promise<{ register(program: Command): void }>;
}

export const commands: CommandEntry[] = [
  { name: 'validate', load: () => import('./validate.js') },
  { name: 'print', load: () => import('./print.js') },
  { name: 'explain', load: () => import('./explain.js') },
  { name: 'diff', load: () => import('./diff.js') },
  { name: 'schema', load: () => import('./schema.js') },
  { name: 'plugins', load: () => import('./plugins.js') },
  { name: 'sweep', load: () => import('./sweep.js') },
  { name: 'run', load: () => import('./run.js') },
  { name: 'eval', load: () => import('./eval.js') },
  { name: 'quickstart', load: () => import('./quickstart.js') },
  { name: 'sync', load: () => import('./sync.js') },
  { name: 'runs', load: () => import('./runs.js') },
  { name: 'report', load: () => import('./report.js') },
  { name: 'data', load: () => import('./data.js') },
];
