// Every CLI command, one module each.
import type { Command } from './command';
import { infoCommand } from './commands/info';
import { belsleyCommand } from './commands/belsley';
import { orderCommand } from './commands/order';
import { experimentFreezeCommand } from './commands/experiment-freeze';
import { curvatureCommand } from './commands/curvature';

export const commands: Command[] = [
  infoCommand,
  belsleyCommand,
  orderCommand,
  experimentFreezeCommand,
  curvatureCommand,
];
