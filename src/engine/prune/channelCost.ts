// What one channel of a dependency group costs: the multiply-adds per example it takes with it when
// removed alone. Every counted layer's multiply-adds are linear in its output channels, and a Dense
// or Conv2D's also in its input channels (graphCost.ts), so a channel's share of a layer is the
// layer's count divided by its channels, times the positions the channel holds there. Removing
// several channels is not additive where a kernel loses input and output channels together; the
// student's graphCost gives the exact totals.
import type { GraphSpec } from '../model/graphSpec';
import { graphCost } from '../model/graphCost';
import type { ChannelGroups } from './groups';

/** Per group id: multiply-adds per example removed with each channel alone. */
export function macsPerChannel(spec: GraphSpec, groups: ChannelGroups): Map<number, Float64Array> {
  const cost = graphCost(spec);
  const out = new Map(groups.groups.map((g) => [g.id, new Float64Array(g.channels)]));
  const share = (tensor: string, macs: number) => {
    const tc = groups.tensorChannels.get(tensor)!;
    const acc = out.get(tc.group)!;
    const per = macs / tc.channel.length;
    for (let j = 0; j < tc.channel.length; j++) acc[tc.channel[j]] += per;
  };
  groups.view.forEach((v, i) => {
    const macs = cost.layers[i].macs;
    if (macs === 0) return;
    share(v.node.name, macs);
    if (v.rule.kind === 'new') share(v.node.inputs[0], macs);
  });
  return out;
}
