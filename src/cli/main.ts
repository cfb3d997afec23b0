/**
 * The `ablate` command line. Startup stays lean: only the invoked command's module is imported
 * (every module when help is asked for), and each command imports its heavy machinery in its
 * action. User mistakes print as located errors with exit code 2; bugs print their stack.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { commands } from './commands/index.js';
import { formatError, exitCodeOf } from './format.js';
import { packageRoot } from '../package-root.js';

function version(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

/** `ablate diff a b | head`: a reader that stops early is not an error. */
function exitQuietlyOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      throw e;
    });
  }
}

export async function main(argv: string[] = process.argv): Promise<number> {
  exitQuietlyOnClosedPipe();
  const program = new Command('ablate')
    .description('Declarative deep-learning experiments: YAML configs validated by JSON Schema, plugins, MLflow tracking.')
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)');
  // Import only what this invocation needs: the named command, or all of them for help.
  const args = argv.slice(2);
  const named = args.find((a) => !a.startsWith('-'));
  const wanted = commands.filter((c) => c.name === named);
  for (const c of wanted.length > 0 ? wanted : commands) {
    try {
      (await c.load()).register(program);
    } catch (e) {
      // A command module that fails to import must not take the others down with it.
      if (wanted.length > 0) throw e;
      process.stderr.write(`ablate: command '${c.name}' is unavailable: ${(e as Error).message}\n`);
    }
  }
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    process.stderr.write(`${formatError(e)}\n`);
    return exitCodeOf(e);
  }
}
