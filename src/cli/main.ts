// `prunescope <command> ...`: the command line over the engine. Errors go to stderr with exit 1.
// This module only exports main(): it is the CLI bundle's entry (dist/cli.js), and inside a
// webpack bundle `require.main === module` holds for the entry even when bin/ requires it, so
// running it here would run every command twice. run.ts (tsc build) and bin/ call main().
import { parseArgs } from './args';
import { commands } from './registry';
import { PruneScopeError } from '../engine/errors';

function help(): string {
  const w = Math.max(...commands.map((c) => c.name.length), 4);
  return [
    'usage: prunescope <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'MODEL is a TF.js model.json (or its folder), a Keras .keras or .h5 file, or an ONNX .onnx file.',
    'prunescope <command> --help for its options',
  ].join('\n');
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(help() + '\n');
    return name ? 0 : 2;
  }
  let cmd = commands.find((c) => c.name === name);
  if (!cmd) {
    process.stderr.write(`prunescope: unknown command "${name}"\n\n${help()}\n`);
    return 2;
  }
  if (cmd.subcommands) {
    const sub = cmd.subcommands.find((c) => c.name === rest[0]);
    if (!sub) {
      process.stderr.write(`prunescope ${name}: expected one of ${cmd.subcommands.map((c) => c.name).join(', ')}\n`);
      return 2;
    }
    rest.shift();
    cmd = sub;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const flags = cmd.flags.map((f) => `  --${f.name}${f.value ? ' VALUE' : ''}  ${f.help}`);
    process.stdout.write([`usage: ${cmd.usage}`, '', cmd.summary, '', ...flags].join('\n') + '\n');
    return 0;
  }
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  try {
    const args = parseArgs(rest, cmd.flags, cmd.name);
    await cmd.run(args, {
      log: (m) => process.stderr.write(m + '\n'),
      out: (t) => process.stdout.write(t.endsWith('\n') ? t : t + '\n'),
      signal: controller.signal,
    });
    return 0;
  } catch (e) {
    const err = e as Error;
    const prefix = err instanceof PruneScopeError ? `prunescope ${name}: ` : `prunescope ${name}: internal error: `;
    process.stderr.write(prefix + err.message + '\n');
    if (!(err instanceof PruneScopeError) && process.env.PRUNESCOPE_DEBUG)
      process.stderr.write(String(err.stack) + '\n');
    return 1;
  }
}
