#!/usr/bin/env node
// The `ablate` executable: runs the compiled CLI (built by `npm run build`, or on install by `prepare`).
let cli;
try {
  cli = await import('../dist/src/cli/main.js');
} catch (e) {
  if (e && e.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes('main.js')) {
    console.error('ablate: the CLI is not built yet: run `npm run build` in the ablate folder');
    process.exit(1);
  }
  throw e;
}
process.exitCode = await cli.main(process.argv);
