/** Where the repository is, for tests that read its files or run its executables. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The tiny runnable plugins (test/support/tiny-plugins.ts), for an experiment's `plugins:` list. */
export const tinyPluginsFile = path.join(repoRoot, 'test/support/tiny-plugins.ts');
