#!/usr/bin/env node
// Runs the CLI from the tsc build (`node build/src/cli/run.js ...`: npm run demo, the tests);
// bin/prunescope.js does the same for the bundle or the build.
import { main } from './main';

// Exit once stdout and stderr have drained: process.exit() cuts a piped --json document at 64 KiB.
main(process.argv.slice(2)).then((code) =>
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code))),
);
