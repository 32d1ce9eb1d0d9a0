// Every CLI command, one module each.
import type { Command } from './command';
import { infoCommand } from './commands/info';

export const commands: Command[] = [
  infoCommand,
];
