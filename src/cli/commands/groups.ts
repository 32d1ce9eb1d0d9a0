// `prunescope groups MODEL`: the model's channel dependency groups: which layers make each group's
// channels, how many can be removed (and why the others cannot), every weight slice a channel takes
// with it, and what one channel costs in parameters and multiply-adds.
import { Command } from '../command';
import { ParsedArgs, bool } from '../args';
import { badInput } from '../../engine/errors';
import { readModel } from '../../engine/formats';
import { groupsReport, GroupsReport } from '../../engine/prune/groupsReport';

function mean(v: number[]): number {
  return v.length ? v.reduce((a, b) => a + b, 0) / v.length : 0;
}

export function groupsText(path: string, r: GroupsReport): string {
  const rows = [
    ['group', 'made by', 'channels', 'removable', 'params/ch', 'MACs/ch', 'members'],
    ...r.groups.map((g) => [
      String(g.id),
      g.producers.join(' + '),
      String(g.channels),
      String(g.removable),
      mean(g.paramsPerChannel).toFixed(0),
      mean(g.macsPerChannel).toFixed(0),
      g.members.map((m) => `${m.node}.${m.weight}`).join(', '),
    ]),
  ];
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const lines = [
    path,
    `${r.removableChannels} removable channels in ${r.groups.filter((g) => g.removable > 0).length} groups`,
    '',
    ...rows.map((row) =>
      row.map((cell, c) => (c === 1 || c === 6 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join('  '),
    ),
  ];
  for (const g of r.groups)
    if (g.fixedBecause.length)
      lines.push(`group ${g.id}: ${g.fixedChannels.length} fixed (${g.fixedBecause.join('; ')})`);
  return lines.join('\n');
}

export const groupsCommand: Command = {
  name: 'groups',
  summary: 'List the channel dependency groups structured pruning removes together',
  usage: 'prunescope groups MODEL [--json]',
  flags: [{ name: 'json', value: false, help: 'print one JSON document instead of text' }],
  async run(args: ParsedArgs, ctx) {
    if (args.positional.length !== 1)
      throw badInput(`got ${args.positional.length} arguments`, { field: 'groups', expected: 'exactly one MODEL' });
    const m = await readModel(args.positional[0]);
    const r = groupsReport(m.spec);
    ctx.out(bool(args, 'json') ? JSON.stringify({ path: m.path, ...r }, null, 2) : groupsText(m.path, r));
  },
};
