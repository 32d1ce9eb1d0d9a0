// Every CLI command, one module each.
import type { Command } from './command';
import { infoCommand } from './commands/info';
import { belsleyCommand } from './commands/belsley';

export const commands: Command[] = [
  infoCommand,
  belsleyCommand,
];
