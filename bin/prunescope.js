#!/usr/bin/env node
// Prefer the webpack bundle (packaged extension), else the tsc build (a source checkout). Both
// only export main(): this file is what runs it (src/cli/main.ts says why).
const fs = require('fs');
const path = require('path');
const bundle = path.join(__dirname, '..', 'dist', 'cli.js');
const built = path.join(__dirname, '..', 'build', 'src', 'cli', 'main.js');
const entry = fs.existsSync(bundle) ? bundle : built;
if (!fs.existsSync(entry)) {
  process.stderr.write('prunescope: not built yet; run `npm run compile` (or `npm ci`, which builds it)\n');
  process.exit(2);
}
require(entry)
  .main(process.argv.slice(2))
  // Exit once stdout and stderr have drained: process.exit() cuts a piped --json document at 64 KiB.
  .then((code) => process.stdout.write('', () => process.stderr.write('', () => process.exit(code))));
