// `prunescope relevance MODEL --data D --method M`: a relevance score per parameter (flat
// order) and the order it induces, least relevant first, with provenance.
import { Command } from '../command';
import { weightIndex } from '../../engine/model/summary';
import { ParsedArgs, bool } from '../args';
import { MODEL_DATA_FLAGS, openModelWithData } from '../modelData';
import { RELEVANCE_FLAGS, relevanceRequest } from '../relevanceOptions';
import { computeRelevance } from '../../engine/relevance/compute';
import { channelRanking } from '../../engine/prune/channelRanking';
import { channelOrder } from '../../engine/prune/channelSelect';
import { channelGroups } from '../../engine/prune/groups';
import { CHANNEL_FLAGS, channelOptions } from '../structuredOptions';

export const relevanceCommand: Command = {
  name: 'relevance',
  summary: 'Score every parameter by a relevance method and order them, least relevant first',
  usage:
    'prunescope relevance MODEL --data D --method random|obd|variational|belsley [--variant hessian|ggn|fisher] [--covariance laplace|trajectory|gradient|variational-full] [--laplace-structure auto|block|kron|diag] [--ordering exact|fast] [--structured channels|units [--aggregate sum|mean|max|native]] [--seed S] [--json]',
  flags: [
    ...MODEL_DATA_FLAGS,
    ...RELEVANCE_FLAGS,
    ...CHANNEL_FLAGS,
    { name: 'json', value: false, help: 'print one JSON document' },
  ],
  async run(args: ParsedArgs, ctx) {
    const { model, split, seed } = await openModelWithData(args, 'relevance', this.usage, ctx);
    try {
      const req = relevanceRequest(args, seed);
      const ch = channelOptions(args);
      if (ch.structured !== 'none') {
        const groups = channelGroups(model.network.toSpec());
        const r = await channelRanking(
          model.network,
          groups,
          split,
          { ...req, signal: ctx.signal },
          {
            aggregate: ch.aggregate,
            unit: ch.structured,
            signal: ctx.signal,
          },
        );
        const order = channelOrder(r.scores, groups);
        const doc = {
          method: r.method,
          variant: r.parameters?.variant ?? (r.aggregate === 'native' ? 'channel-gates' : null),
          structured: r.unit,
          aggregate: r.aggregate,
          groups: [...r.scores].map(([id, s]) => ({
            id,
            producers: groups.groups[id].producers,
            channels: groups.groups[id].channels,
            scores: Array.from(s, (v) => (Number.isNaN(v) ? null : v)),
            order: order.get(id)!,
          })),
          provenance: r.provenance,
        };
        if (bool(args, 'json')) {
          ctx.out(JSON.stringify(doc));
          return;
        }
        ctx.out(
          [
            `${r.method} per ${r.unit === 'units' ? 'unit' : 'channel'} (${r.aggregate}): ${doc.groups.length} groups`,
            ...doc.groups.map(
              (g) =>
                `  ${g.producers.join(' + ')} (${g.channels}): least relevant first ${g.order.slice(0, 8).join(', ')}${g.order.length > 8 ? ', ...' : ''}`,
            ),
          ].join('\n'),
        );
        return;
      }
      const r = await computeRelevance(model.network, split, {
        ...req,
        signal: ctx.signal,
        onProgress: (d, t, what) => {
          if (d % 10 === 0 || d === t) ctx.log(`${what}: ${d}/${t}`);
        },
      });
      const doc = {
        method: r.method,
        variant: r.variant ?? null,
        ...(r.covariance ? { covariance: r.covariance } : {}),
        scores: Array.from(r.scores),
        order: Array.from(r.order),
        // The flat index: each trainable weight's name, layer, offset and shape (row-major as stored).
        weights: weightIndex(model.network),
        ...(r.extra ? { extra: r.extra } : {}),
        provenance: r.provenance,
      };
      const warning = (r.extra as { warning?: string } | undefined)?.warning;
      if (warning) ctx.log(`warning: ${warning}`);
      if (bool(args, 'json')) {
        ctx.out(JSON.stringify(doc));
        return;
      }
      const head = Array.from(r.order.subarray(0, 10))
        .map((j) => `${j} (${r.scores[j].toPrecision(3)})`)
        .join(', ');
      ctx.out(
        [
          `${r.method}${r.variant ? ` (${r.variant})` : ''}: ${r.scores.length} parameters`,
          `least relevant first: ${head}${r.order.length > 10 ? ', ...' : ''}`,
        ].join('\n'),
      );
    } finally {
      model.network.dispose();
    }
  },
};
