// A CLI command: its own module under commands/, registered in registry.ts.
import { FlagSpec, ParsedArgs } from './args';

export interface CliContext {
  /** Write human-readable progress (stderr, so --json stdout stays one document). */
  log(msg: string): void;
  /** Print the result: one JSON document with --json, else text. */
  out(text: string): void;
  signal: AbortSignal;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  run(args: ParsedArgs, ctx: CliContext): Promise<void>;
  /** A command with subcommands (`experiment freeze|paper1`) dispatches on its first word. */
  subcommands?: Command[];
}
