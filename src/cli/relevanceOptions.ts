// The relevance flags every ranking command shares (relevance, prune, curves, export-student,
// distill --widths): one table and one reader, so the same flags give the same ranking everywhere.
import { FlagSpec, ParsedArgs, list, num, oneOf, str } from './args';
import { badInput } from '../engine/errors';
import {
  BELSLEY_BLOCK_LIMIT_RANGE,
  BELSLEY_COVARIANCES,
  BELSLEY_ORDERINGS,
  describeRange,
  LAPLACE_STRUCTURES,
  OBD_VARIANTS,
  RELEVANCE_DEFAULTS,
  RELEVANCE_METHODS,
  type RelevanceMethod,
} from '../engine/options';
import type { RelevanceRequest } from '../engine/relevance/compute';

const D = RELEVANCE_DEFAULTS;

export const METHOD_FLAG: FlagSpec = {
  name: 'method',
  value: true,
  help: `${RELEVANCE_METHODS.join(', ')} (default ${D.method})`,
};

/**
 * Options of the method (--variant, --covariance, --laplace-structure, --block-limit, --ordering, --epochs), without
 * --method itself.
 */
export const METHOD_OPTION_FLAGS: FlagSpec[] = [
  { name: 'variant', value: true, help: `obd curvature: ${OBD_VARIANTS.join(', ')} (default ${D.variant})` },
  {
    name: 'covariance',
    value: true,
    help: `belsley covariance source: ${BELSLEY_COVARIANCES.join(', ')} (default ${D.covariance})`,
  },
  {
    name: 'laplace-structure',
    value: true,
    help: `belsley laplace covariance per layer: ${LAPLACE_STRUCTURES.join(', ')} (default ${D.laplaceStructure}: a full block up to ${D.blockLimit} active parameters, Kronecker factors above; diag carries no Belsley information)`,
  },
  {
    name: 'block-limit',
    value: true,
    help: `belsley: largest layer (active parameters) whose covariance is one full block (default ${D.blockLimit}; ${describeRange(BELSLEY_BLOCK_LIMIT_RANGE)})`,
  },
  {
    name: 'ordering',
    value: true,
    help: `belsley ordering: ${BELSLEY_ORDERINGS.join(' or ')} (default: exact up to ${D.exactOrderingLimit} parameters)`,
  },
  {
    name: 'epochs',
    value: true,
    help: 'variational: run exactly N epochs (default: until the ELBO settles, 2,000-10,000 steps)',
  },
];

export const RELEVANCE_FLAGS: FlagSpec[] = [METHOD_FLAG, ...METHOD_OPTION_FLAGS];

/**
 * The ranking request the relevance flags ask for (method options left out take the engine's
 * defaults). `epochsFlag`: null where --epochs means something else (distill's training epochs).
 */
export function relevanceRequest(
  args: ParsedArgs,
  seed: number,
  epochsFlag: string | null = 'epochs',
): RelevanceRequest & { method: RelevanceMethod } {
  const opt = <T extends string>(name: string, allowed: readonly T[]) =>
    str(args, name) === undefined ? undefined : oneOf(args, name, allowed, allowed[0]);
  return {
    method: oneOf(args, 'method', RELEVANCE_METHODS, D.method),
    variant: opt('variant', OBD_VARIANTS),
    covariance: opt('covariance', BELSLEY_COVARIANCES),
    laplaceStructure: opt('laplace-structure', LAPLACE_STRUCTURES),
    blockLimit:
      str(args, 'block-limit') === undefined
        ? undefined
        : num(args, 'block-limit', D.blockLimit, {
            integer: true,
            min: BELSLEY_BLOCK_LIMIT_RANGE.min,
            max: BELSLEY_BLOCK_LIMIT_RANGE.max,
          }),
    ordering: opt('ordering', BELSLEY_ORDERINGS),
    epochs:
      epochsFlag === null || str(args, epochsFlag) === undefined
        ? undefined
        : num(args, epochsFlag, 1, { integer: true, min: 1 }),
    seed,
  };
}

/** A comma-separated list of methods (--methods), each checked; `fallback` when the flag is absent. */
export function methodList(args: ParsedArgs, name: string, fallback: readonly RelevanceMethod[]): RelevanceMethod[] {
  return (list(args, name) ?? [...fallback]).map((m) => {
    if (!(RELEVANCE_METHODS as readonly string[]).includes(m))
      throw badInput(`--${name} has "${m}"`, { field: `--${name}`, expected: RELEVANCE_METHODS.join(', ') });
    return m as RelevanceMethod;
  });
}
