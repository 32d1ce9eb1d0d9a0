// The structured-pruning flags every pruning command shares (relevance, prune, curves,
// export-student): what a share removes (--structured), how a channel's relevance comes from its
// parameters' (--aggregate), whether every layer loses the same share (--scope), BN folding and
// fine-tuning with the mask held.
import { FlagSpec, ParsedArgs, bool, num, oneOf } from './args';
import { badInput } from '../engine/errors';
import {
  CHANNEL_AGGREGATES,
  CHANNEL_SCOPES,
  FINETUNE_EPOCHS_RANGE,
  STRUCTURED_DEFAULTS,
  STRUCTURED_MODES,
  type ChannelAggregate,
  type ChannelScope,
  type StructuredMode,
} from '../engine/options';

const D = STRUCTURED_DEFAULTS;

export const STRUCTURED_FLAG: FlagSpec = {
  name: 'structured',
  value: true,
  help: `${STRUCTURED_MODES.join(', ')}: remove whole channels of dependency groups, units of Dense layers only, or single weights (default ${D.structured})`,
};

export const CHANNEL_FLAGS: FlagSpec[] = [
  STRUCTURED_FLAG,
  {
    name: 'aggregate',
    value: true,
    help: `channel relevance from its parameters': ${CHANNEL_AGGREGATES.join(', ')} (native: Belsley on the channel gates, method belsley only; default ${D.aggregate})`,
  },
  {
    name: 'scope',
    value: true,
    help: `${CHANNEL_SCOPES.join(' or ')}: every layer loses the same share, or one ranking over all channels (default ${D.scope})`,
  },
];

export const FOLD_BN_FLAG: FlagSpec = {
  name: 'fold-bn',
  value: false,
  help: 'fold BatchNormalization into the layer before it (the student has no BN layers, same function)',
};

export const FINETUNE_FLAG: FlagSpec = {
  name: 'finetune',
  value: true,
  help: `fine-tune the surviving weights this many epochs with the mask held (default ${D.finetuneEpochs})`,
};

export interface ChannelOptions {
  structured: StructuredMode;
  aggregate: ChannelAggregate;
  scope: ChannelScope;
}

export function channelOptions(args: ParsedArgs): ChannelOptions {
  return {
    structured: oneOf(args, 'structured', STRUCTURED_MODES, D.structured),
    aggregate: oneOf(args, 'aggregate', CHANNEL_AGGREGATES, D.aggregate),
    scope: oneOf(args, 'scope', CHANNEL_SCOPES, D.scope),
  };
}

export function finetuneEpochs(args: ParsedArgs): number {
  return num(args, 'finetune', D.finetuneEpochs, {
    integer: true,
    min: FINETUNE_EPOCHS_RANGE.min,
    max: FINETUNE_EPOCHS_RANGE.max,
  });
}

export function foldBn(args: ParsedArgs): boolean {
  return bool(args, 'fold-bn');
}

/**
 * Structured pruning removes channels from the network's own weights (the student must equal the
 * channel-masked teacher), so a variational ranking's posterior mean is not used there.
 */
export function refuseVariationalWeights(args: ParsedArgs, ch: ChannelOptions): void {
  if (ch.structured !== 'none' && args.flags.has('variational-weights'))
    throw badInput('--variational-weights is for weight pruning', {
      field: '--variational-weights',
      expected: 'no --variational-weights with --structured (channels keep the network weights)',
    });
}
