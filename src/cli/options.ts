/** Option helpers shared by the config commands. */
import type { Command } from 'commander';

/** Commander collector for a repeatable option (`--set a=1 --set b=2`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Adds `--set` (repeatable) to a command. */
export function withSet(cmd: Command): Command {
  return cmd.option('-s, --set <key=value>', 'override a value (YAML-typed); `key+=[x]` appends, `key~` deletes; repeatable', collect, []);
}

export function print(line = ''): void {
  process.stdout.write(`${line}\n`);
}
