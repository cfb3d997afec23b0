/**
 * Runs config fuzz cases in a child process (so the parent can stop a case that hangs): for each
 * seed, mutates one shipped experiment file, writes it next to the original (so its relative
 * `extends:` and paths resolve the same way) and validates it as `ablate validate` does. Reports
 * each case to the parent over IPC: `start`, then `done` with the outcome.
 *   argv: <copy of the repository's experiment folders> <first seed> <count>
 */
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { checkFile } from '../../../src/config/load.js';
import { schemaRegistry } from '../../../src/plugin/bootstrap.js';
import { AblateError, AblateErrors } from '../../../src/errors.js';
import { formatError } from '../../../src/cli/format.js';
import { mutate, rng } from './mutate.js';

export interface CaseResult {
  seed: number;
  source: string;
  outcome: 'valid' | 'errors' | 'unlocated' | 'crash';
  /** Error codes (errors), the unlocated errors' codes, or the exception's stack (crash). */
  detail: string[];
}

const [root, firstArg, countArg] = process.argv.slice(2);
// Waits until the message is handed to the channel: messages still queued when the worker
// disconnects are lost (a fast run outpaced the pipe and half the results never arrived).
const send = (m: unknown) => new Promise<void>((resolve, reject) => process.send!(m, undefined, undefined, (e) => (e ? reject(e) : resolve())));

function yamlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) => (e.isDirectory() ? yamlFiles(path.join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [path.join(dir, e.name)] : []))
    .sort();
}

const sources = yamlFiles(root!);
const registry = await schemaRegistry();
// Warm up (plugin schemas, compiled validator) before any case is timed.
await checkFile(sources.find((f) => f.endsWith('quickstart.yaml'))!, { registry });
await send({ ready: sources.length });

const first = Number(firstArg);
for (let seed = first; seed < first + Number(countArg); seed++) {
  const random = rng(seed);
  const source = sources[Math.floor(random() * sources.length)]!;
  const { bytes } = mutate(readFileSync(source, 'utf8'), random);
  // `_base_` in the name keeps a mutated fragment a fragment; a new name per case defeats the parse cache.
  const file = path.join(path.dirname(source), `fuzz-${seed}.${path.basename(source)}`);
  writeFileSync(file, bytes);
  await send({ start: seed });
  const result: CaseResult = { seed, source: path.relative(root!, source), outcome: 'valid', detail: [] };
  try {
    await checkFile(file, { registry });
  } catch (e) {
    if (e instanceof AblateError) {
      const errors = e instanceof AblateErrors ? e.errors : [e];
      const unlocated = errors.filter((x) => !(x.where?.file && x.where.line) && !x.where?.key);
      result.outcome = unlocated.length > 0 ? 'unlocated' : 'errors';
      result.detail = (unlocated.length > 0 ? unlocated : errors).map((x) => `${x.code}: ${x.message.slice(0, 200)}`);
      // What the CLI prints must be printable: a located message, never the "bug in ablate" form.
      const text = formatError(e);
      if (text.includes('unexpected error')) result.outcome = 'crash';
    } else {
      result.outcome = 'crash';
      result.detail = [String((e as Error)?.stack ?? e)];
    }
  } finally {
    rmSync(file, { force: true });
  }
  await send({ done: result });
}
process.disconnect();
