// Runs the CLI from source (the `bin/ablate.js` executable runs the compiled dist/).
import { main } from '../../src/cli/main.js';

process.exitCode = await main(process.argv);
