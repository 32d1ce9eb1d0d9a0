// `prunescope info MODEL`: what a model file (TF.js, .keras, .h5, .onnx) holds as PruneScope sees
// it: its layers (shapes, parameter counts: total, active = non-zero, pruned = zero), the flat
// parameter index, and the PruneScope metadata.
import { Command } from '../command';
import { ParsedArgs, bool } from '../args';
import { badInput } from '../../engine/errors';
import { initBackend } from '../../engine/backend';
import { LoadedModel, loadModel } from '../../engine/formats/modelFile';
import { hashModel } from '../../engine/provenance';
import { WeightIndexEntry, weightIndex } from '../../engine/model/summary';

export interface InfoLayer {
  name: string;
  /** Keras class name. */
  className: string;
  /** Elements of the input and of the output per sample (units for a Dense layer). */
  in: number;
  out: number;
  outputShape: number[];
  /** The fused activation ('-' for a layer without one). */
  activation: string;
  /** Shape of the layer's kernel ([] when it has none). */
  kernelShape: number[];
  params: number;
  active: number;
}

export interface InfoReport {
  path: string;
  format: LoadedModel['format'];
  inputSize: number;
  outputSize: number;
  task: 'classification' | 'regression';
  /** hashModel(spec, parameters): the id results computed from this model record. */
  modelHash: string;
  layers: InfoLayer[];
  /** The flat parameter index: one entry per trainable weight. */
  weights: WeightIndexEntry[];
  totalParams: number;
  /** Parameters that are non-zero. */
  activeParams: number;
  /** Parameters that are zero (pruned or exactly zero). */
  prunedParams: number;
  /** Pruned count recorded by the metadata's prune mask, when present. */
  maskPruned?: number;
  metadata?: {
    task?: string;
    features?: number;
    featureNames?: string[];
    targetName?: string;
    labelNames?: string[];
    standardized: boolean;
    pruneMask?: { pruned: number; method?: string; fraction?: number; includeBiases?: boolean };
    provenance?: { job: string; method?: string; time: string; modelHash?: string };
    otherKeys: string[];
  };
  warnings: string[];
}

const KNOWN_META = new Set([
  'task',
  'featureNames',
  'targetName',
  'labelNames',
  'preprocessing',
  'provenance',
  'pruneMask',
]);

export function infoReport(m: LoadedModel): InfoReport {
  const net = m.network;
  const flat = net.toFlat();
  const nz = (a: number, b: number) => {
    let c = 0;
    for (let j = a; j < b; j++) if (flat[j] !== 0) c++;
    return c;
  };
  const size = (sh: number[]) => sh.reduce((a, b) => a * b, 1);
  const layers: InfoLayer[] = net.ops
    .filter((op) => op.role === 'layer')
    .map((op) => {
      const kernel = op.layer.weights.find((d) => /kernel$/.test(d.name));
      return {
        name: op.node.name,
        className: op.node.className,
        in: size(op.layer.inputShapes[0]),
        out: size(op.layer.outputShape),
        outputShape: op.layer.outputShape,
        activation: (op.node.config as { activation?: string }).activation ?? '-',
        kernelShape: kernel ? kernel.shape : [],
        params: op.paramCount,
        active: nz(op.paramOffset, op.paramOffset + op.paramCount),
      };
    });
  const active = layers.reduce((a, l) => a + l.active, 0);
  const md = m.metadata;
  return {
    path: m.path,
    format: m.format,
    inputSize: net.inputSize,
    outputSize: net.outputSize,
    task: net.task,
    modelHash: hashModel(net.structure(), flat),
    layers,
    weights: weightIndex(net),
    totalParams: net.nParams,
    activeParams: active,
    prunedParams: net.nParams - active,
    maskPruned: m.pruneMask ? m.pruneMask.reduce((a, b) => a + b, 0) : undefined,
    metadata: md && {
      task: md.task,
      features: md.featureNames?.length,
      featureNames: md.featureNames,
      targetName: md.targetName,
      labelNames: md.labelNames,
      standardized: !!md.preprocessing?.standardization,
      pruneMask: md.pruneMask && {
        pruned: md.pruneMask.prunedCount,
        method: md.pruneMask.method,
        fraction: md.pruneMask.fraction,
        includeBiases: md.pruneMask.includeBiases,
      },
      provenance: md.provenance && {
        job: md.provenance.job,
        method: md.provenance.method,
        time: md.provenance.time,
        modelHash: md.provenance.modelHash,
      },
      otherKeys: Object.keys(md).filter((k) => !KNOWN_META.has(k)),
    },
    warnings: m.warnings,
  };
}

function short(list: string[] | undefined, n = 8): string {
  if (!list) return '-';
  return list.length <= n ? list.join(', ') : `${list.slice(0, n).join(', ')}, ... (${list.length})`;
}

const FORMAT_NAMES = { tfjs: 'TF.js LayersModel', keras: 'Keras .keras', h5: 'Keras .h5', onnx: 'ONNX' } as const;

/** "Sequential TF.js LayersModel (PruneScope 0.1.0), input shape [28, 28, 1], 1 group(s), ..." */
export function formatLine(f: InfoReport['format']): string {
  const parts = [
    `${f.modelClass} ${FORMAT_NAMES[f.type]} (${f.generatedBy ?? f.kerasVersion ?? 'unknown writer'})`,
    `input shape [${f.inputShape.join(', ')}]`,
    ...(f.weightGroups !== undefined ? [`${f.weightGroups} group(s), ${f.shards ?? 0} shard(s)`] : []),
    ...(f.opset !== undefined ? [`opset ${f.opset}`] : []),
    `${f.weightBytes} bytes, dtypes ${f.dtypes.join(', ')}`,
  ];
  return parts.join(', ');
}

export function infoText(r: InfoReport): string {
  const rows = [
    ['layer', 'class', 'in', 'out', 'activation', 'kernel', 'params', 'active'],
    ...r.layers.map((l) => [
      l.name,
      l.className,
      String(l.in),
      l.outputShape.length > 1 ? l.outputShape.join('x') : String(l.out),
      l.activation,
      l.kernelShape.length ? l.kernelShape.join('x') : '-',
      String(l.params),
      String(l.active),
    ]),
  ];
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const table = rows.map((row) =>
    row.map((cell, c) => (c <= 1 || c === 4 ? cell.padEnd(w[c]) : cell.padStart(w[c]))).join('  '),
  );
  const pct = (k: number) => (r.totalParams ? ((100 * k) / r.totalParams).toFixed(1) : '0.0');
  const lines = [
    `${r.path}`,
    `format: ${formatLine(r.format)}`,
    `task: ${r.task} (${r.inputSize} inputs -> ${r.outputSize} outputs), model hash ${r.modelHash}`,
    '',
    ...table,
    '',
    `parameters: ${r.totalParams} total, ${r.activeParams} active (${pct(r.activeParams)}%), ${r.prunedParams} pruned/zero (${pct(r.prunedParams)}%)${r.maskPruned !== undefined ? `; prune mask marks ${r.maskPruned}` : ''}`,
  ];
  const md = r.metadata;
  if (md) {
    lines.push('', 'metadata:');
    if (md.task) lines.push(`  task: ${md.task}`);
    if (md.featureNames) lines.push(`  features (${md.features}): ${short(md.featureNames)}`);
    if (md.targetName) lines.push(`  target: ${md.targetName}`);
    if (md.labelNames) lines.push(`  labels: ${short(md.labelNames)}`);
    lines.push(`  standardized inputs: ${md.standardized ? 'yes' : 'no'}`);
    if (md.pruneMask)
      lines.push(
        `  prune mask: ${md.pruneMask.pruned} pruned${md.pruneMask.method ? ` by ${md.pruneMask.method}` : ''}${md.pruneMask.fraction !== undefined ? `, fraction ${md.pruneMask.fraction}` : ''}`,
      );
    if (md.provenance)
      lines.push(
        `  made by: ${md.provenance.job}${md.provenance.method ? ` (${md.provenance.method})` : ''} at ${md.provenance.time}`,
      );
    if (md.otherKeys.length) lines.push(`  other keys: ${md.otherKeys.join(', ')}`);
  } else {
    lines.push('', 'metadata: none (not written by PruneScope)');
  }
  for (const wng of r.warnings) lines.push(`warning: ${wng}`);
  return lines.join('\n');
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'Show the layers, parameter counts and PruneScope metadata of a model file',
  usage: 'prunescope info MODEL [--json]',
  flags: [{ name: 'json', value: false, help: 'print one JSON document instead of text' }],
  async run(args: ParsedArgs, ctx) {
    if (args.positional.length !== 1)
      throw badInput(`got ${args.positional.length} arguments`, { field: 'info', expected: 'exactly one MODEL' });
    await initBackend();
    const m = await loadModel(args.positional[0]);
    try {
      const r = infoReport(m);
      ctx.out(bool(args, 'json') ? JSON.stringify(r, null, 2) : infoText(r));
    } finally {
      m.network.dispose();
    }
  },
};
