// What one channel of a dependency group costs: the multiply-adds per example it takes with it when
// removed alone. Every counted layer's multiply-adds are linear in its output channels, and a Dense
// or Conv2D's also in its input channels (graphCost.ts), so a channel's share of a layer is the
// layer's count divided by its channels, times the positions the channel holds there. Removing
// several channels is not additive where a kernel loses input and output channels together; the
// student's graphCost gives the exact totals.
import type { GraphSpec } from '../graphSpec';
import { graphCost, GraphCost } from '../model/graphCost';
import { sizeOf } from '../model/graphShapes';
import type { ChannelGroups } from './groups';
import type { RemovedChannels } from './structuredMask';

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

export interface RemovalCost {
  params: number;
  state: number;
  macs: number;
}

/**
 * The cost of the teacher with `removed` channels taken out, from the kept channel counts alone
 * (no weights touched): each weight shrinks along the axes its channels index, each layer's
 * multiply-adds with its output channels (and a kernel's with its input channels too). Equals the
 * student's graphCost when removing the channels leaves no other channel dead or constant (the
 * what-if slider's fast path; the exported student is measured on the student itself).
 */
export function costWithRemoved(
  spec: GraphSpec,
  groups: ChannelGroups,
  removed: RemovedChannels,
  base: GraphCost = graphCost(spec),
): RemovalCost {
  const gone = new Map<number, Set<number>>();
  for (const [id, ks] of removed) gone.set(id, new Set(ks));
  const keptShare = new Map<string, number>();
  const share = (t: string) => {
    let s = keptShare.get(t);
    if (s === undefined) {
      const tc = groups.tensorChannels.get(t)!;
      const g = gone.get(tc.group);
      let kept = tc.channel.length;
      if (g) for (let j = 0; j < tc.channel.length; j++) if (g.has(tc.channel[j])) kept--;
      s = kept / tc.channel.length;
      keptShare.set(t, s);
    }
    return s;
  };
  let params = 0;
  let state = 0;
  let macs = 0;
  groups.view.forEach((v, i) => {
    const inS = share(v.node.inputs[0]);
    const outS = share(v.node.name);
    for (const w of v.node.weights) {
      let f = 1;
      for (const ax of v.axes) if (ax.weight === w.name) f *= ax.side === 'input' ? inS : outS;
      const n = Math.round(sizeOf(w.shape) * f);
      if (w.trainable) params += n;
      else state += n;
    }
    macs += Math.round(base.layers[i].macs * outS * (v.rule.kind === 'new' ? inS : 1));
  });
  return { params, state, macs };
}
