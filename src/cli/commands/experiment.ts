// `prunescope experiment <name>`: the seed papers' experiments, one subcommand each.
import { Command } from '../command';
import { experimentPaper1Command } from './experiment-paper1';
import { experimentFreezeCommand } from './experiment-freeze';

export const experimentCommand: Command = {
  name: 'experiment',
  summary: "The seed papers' experiments: `experiment paper1` (pruning curves), `experiment freeze` (ordered freezing)",
  usage: 'prunescope experiment paper1|freeze ...',
  flags: [],
  subcommands: [experimentPaper1Command, experimentFreezeCommand],
  async run() {
    // Dispatched to a subcommand by main.ts.
  },
};
