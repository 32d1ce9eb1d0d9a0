#!/usr/bin/env node
// Runs the CLI from the tsc build (`node build/src/cli/run.js ...`: npm run demo, the tests);
// bin/prunescope.js does the same for the bundle or the build.
import { main } from './main';

main(process.argv.slice(2)).then((code) => process.exit(code));
