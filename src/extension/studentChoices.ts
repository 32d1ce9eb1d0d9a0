// What Export Student asks, and the job it sends: how the student is made smaller (whole filters,
// Dense units, or individual weights of a dense chain), the share, BN folding. Pure (no vscode), so
// the rules are unit-tested; the pickers show them. Enums and defaults are the engine's.
import type { JobParams } from '../protocol';
import { STRUCTURED_DEFAULTS, type StructuredMode } from '../engine/options';
import { shareLabel, type Method } from './args';

/** Layers whose output channels are whole filters: a model with one is a "conv model". */
const CONV_CLASSES: readonly string[] = ['Conv2D', 'DepthwiseConv2D'];

export interface ModelLayers {
  /** Keras class names of the model's layers, as the `info` job reports them. */
  classNames: readonly string[];
}

export const hasConvolutions = (m: ModelLayers): boolean => m.classNames.some((c) => CONV_CLASSES.includes(c));
export const hasBatchNorm = (m: ModelLayers): boolean => m.classNames.includes('BatchNormalization');

export interface PruningUnitChoice {
  unit: StructuredMode;
  label: string;
  detail: string;
}

const UNIT_CHOICES: Record<StructuredMode, PruningUnitChoice> = {
  channels: {
    unit: 'channels',
    label: 'channels (whole filters)',
    detail: 'Removes whole filters of every dependency group (and Dense units): narrower convolutions.',
  },
  units: {
    unit: 'units',
    label: 'units',
    detail: 'Removes units of the Dense layers only; the convolutions keep every filter.',
  },
  none: {
    unit: 'none',
    label: 'weights (dense chain only)',
    detail: 'Prunes a share of individual weights, then drops dead units: a chain of Dense layers only.',
  },
};

/**
 * The pruning units offered, the default first: whole filters for a model with convolutions, the
 * weights of the dense chain (the students PruneScope always made) for one without.
 */
export function pruningUnitChoices(m: ModelLayers): PruningUnitChoice[] {
  const order: StructuredMode[] = hasConvolutions(m) ? ['channels', 'units', 'none'] : ['none', 'units', 'channels'];
  return order.map((u) => UNIT_CHOICES[u]);
}

/** Keep or fold BatchNormalization, the engine's default (keep) first. */
export function foldBnChoices(): { label: string; detail: string; fold: boolean }[] {
  const choices = [
    {
      label: 'Keep BatchNormalization layers',
      detail: "The student keeps the teacher's BN layers, narrowed.",
      fold: false,
    },
    {
      label: 'Fold BatchNormalization into the layer before it',
      detail: 'The student has no BN layers and computes the same function.',
      fold: true,
    },
  ];
  return choices[0].fold === STRUCTURED_DEFAULTS.foldBn ? choices : choices.reverse();
}

/** What the share removes, in the share picker's title. */
export function shareNoun(unit: StructuredMode): string {
  return unit === 'channels' ? 'channels' : unit === 'units' ? 'units' : 'weights';
}

export type StudentSizing = { fraction: number } | { widths: number[] };

export interface StudentChoices {
  method: Method;
  sizing: StudentSizing;
  /** Absent or 'none': the dense-chain student (a share of weights, or target widths). */
  structured?: StructuredMode;
  /** With structured pruning: fold BatchNormalization into the layer before it. */
  foldBn?: boolean;
}

/** The new folder's tag: method, unit when structured, share or widths (`obd-channels-0.5`). */
export function studentTag(c: StudentChoices): string {
  const size = 'fraction' in c.sizing ? shareLabel(c.sizing.fraction) : c.sizing.widths.join('x');
  const unit = c.structured && c.structured !== 'none' ? `-${c.structured}` : '';
  return `${c.method}${unit}-${size}`;
}

/**
 * The export-student job's parameters. Structured pruning takes a share (the job refuses widths
 * with it) and carries foldBn; the dense-chain student sends neither, as before.
 */
export function exportStudentParams(
  modelPath: string,
  data: string,
  c: StudentChoices,
  out: string,
): JobParams<'export-student'> {
  const base = { modelPath, data, seed: 0, method: c.method, ...c.sizing, out };
  if (!c.structured || c.structured === 'none') return base;
  if (!('fraction' in c.sizing)) throw new Error('structured pruning takes a share, not widths');
  return { ...base, structured: c.structured, foldBn: c.foldBn ?? STRUCTURED_DEFAULTS.foldBn };
}
