// Runs one CLI command in the test process, as bin/prunescope.js would, and returns what it printed.
import { parseArgs } from '../src/cli/args';
import type { CliContext, Command } from '../src/cli/command';

export async function runCommand(cmd: Command, argv: string[]): Promise<string> {
  let out = '';
  const ctx: CliContext = { log: () => undefined, out: (t) => void (out += t), signal: new AbortController().signal };
  await cmd.run(parseArgs(argv, cmd.flags, cmd.name), ctx);
  return out;
}
