// Every CLI command, one module each.
import type { Command } from './command';

export const commands: Command[] = [
];
