// --variational-weights mu|teacher: which weights a variational ranking's pruned models keep
// (prune/variationalWeights.ts), shared by the commands that prune.
import { ParsedArgs, oneOf } from '../args';
import {
  DEFAULT_VARIATIONAL_WEIGHTS,
  VARIATIONAL_WEIGHTS,
  VariationalWeights,
} from '../../engine/prune/variationalWeights';

export const variationalWeightsFlag = {
  name: 'variational-weights',
  value: true,
  help: `variational: pruned models keep the posterior mean (mu, default; METHODS.md 2.5) or the teacher's weights (teacher)`,
};

export function variationalWeightsOf(args: ParsedArgs): VariationalWeights {
  return oneOf(args, 'variational-weights', VARIATIONAL_WEIGHTS, DEFAULT_VARIATIONAL_WEIGHTS);
}
