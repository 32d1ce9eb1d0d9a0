// `prunescope relevance MODEL.json --data D --method M`: a relevance score per parameter (flat
// order) and the order it induces, least relevant first, with provenance.
import { Command } from '../command';
import { ParsedArgs, bool, num, oneOf, str } from '../args';
import { MODEL_DATA_FLAGS, openModelWithData } from '../modelData';
import { computeRelevance } from '../../engine/relevance/compute';
import { RELEVANCE_METHODS } from '../../engine/relevance/types';
import { DIAGONAL_KINDS } from '../../engine/curvature';
import { LAPLACE_STRUCTURES } from '../../engine/relevance/belsleyNetwork';

export const BELSLEY_COVARIANCES = ['laplace', 'trajectory', 'gradient', 'variational-full'] as const;

export const relevanceFlags = [
  { name: 'method', value: true, help: `${RELEVANCE_METHODS.join(', ')}` },
  { name: 'variant', value: true, help: `obd curvature: ${DIAGONAL_KINDS.join(', ')} (default hessian)` },
  {
    name: 'covariance',
    value: true,
    help: `belsley covariance source: ${BELSLEY_COVARIANCES.join(', ')} (default laplace)`,
  },
  {
    name: 'laplace-structure',
    value: true,
    help: `belsley laplace covariance per layer: ${LAPLACE_STRUCTURES.join(', ')} (default auto: full blocks up to 2,048 parameters, Kronecker factors above; diag carries no Belsley information)`,
  },
  { name: 'ordering', value: true, help: 'belsley ordering: exact or fast (default: exact up to 200 parameters)' },
  {
    name: 'epochs',
    value: true,
    help: 'variational: run exactly N epochs (default: until the ELBO settles, 2,000-10,000 steps)',
  },
];

/** Reads the method options shared by relevance, prune, curves and export-student. */
export function relevanceRequest(args: ParsedArgs, seed: number) {
  return {
    method: oneOf(args, 'method', RELEVANCE_METHODS, 'obd'),
    variant: oneOf(args, 'variant', DIAGONAL_KINDS, 'hessian'),
    covariance: oneOf(args, 'covariance', BELSLEY_COVARIANCES, 'laplace'),
    laplaceStructure:
      str(args, 'laplace-structure') === undefined
        ? undefined
        : oneOf(args, 'laplace-structure', LAPLACE_STRUCTURES, 'auto'),
    ordering:
      str(args, 'ordering') === undefined ? undefined : oneOf(args, 'ordering', ['exact', 'fast'] as const, 'fast'),
    epochs: str(args, 'epochs') === undefined ? undefined : num(args, 'epochs', 1, { integer: true, min: 1 }),
    seed,
  };
}

export const relevanceCommand: Command = {
  name: 'relevance',
  summary: 'Score every parameter by a relevance method and order them, least relevant first',
  usage:
    'prunescope relevance MODEL.json --data D --method random|obd|variational|belsley [--variant hessian|ggn|fisher] [--covariance laplace|trajectory|gradient|variational-full] [--laplace-structure auto|block|kron|diag] [--ordering exact|fast] [--seed S] [--json]',
  flags: [...MODEL_DATA_FLAGS, ...relevanceFlags, { name: 'json', value: false, help: 'print one JSON document' }],
  async run(args: ParsedArgs, ctx) {
    const { model, split, seed } = await openModelWithData(args, 'relevance', this.usage);
    try {
      const req = relevanceRequest(args, seed);
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
