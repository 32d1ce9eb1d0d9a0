// Every CLI command, one module each.
import type { Command } from './command';
import { infoCommand } from './commands/info';
import { belsleyCommand } from './commands/belsley';
import { orderCommand } from './commands/order';
import { experimentCommand } from './commands/experiment';
import { relevanceCommand } from './commands/relevance';
import { pruneCommand } from './commands/prune';
import { curvesCommand } from './commands/curves';
import { curvatureCommand } from './commands/curvature';
import { exportStudentCommand } from './commands/export-student';
import { distillCommand } from './commands/distill';
import { trainCommand } from './commands/train';
import { demoCommand } from './commands/demo';
import { groupsCommand } from './commands/groups';
import { predictCommand } from './commands/predict';

export const commands: Command[] = [
  demoCommand,
  trainCommand,
  infoCommand,
  predictCommand,
  belsleyCommand,
  orderCommand,
  relevanceCommand,
  pruneCommand,
  curvesCommand,
  experimentCommand,
  curvatureCommand,
  groupsCommand,
  exportStudentCommand,
  distillCommand,
];
