/**
 * Where ablate's own files are, found one way for the whole code base. `codeRoot` holds the
 * running src/ and plugins/: the package root when run from source, dist/ when compiled.
 * `packageRoot()` is the folder of ablate's package.json, where bin/, experiments/ and schemas/
 * live, whichever of the two is running.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** This file is `<codeRoot>/src/package-root.{ts,js}`. */
export const codeRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

let root: string | undefined;

/** The folder of ablate's package.json (the working directory if none is found above the code). */
export function packageRoot(): string {
  return (root ??= findPackageRoot());
}

function findPackageRoot(): string {
  let dir = codeRoot;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'ablate') return dir;
      } catch {
        /* not ours: keep looking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) return process.cwd();
    dir = up;
  }
}
