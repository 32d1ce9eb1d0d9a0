// PruneScope's metadata travels with the model in every format (TF.js userDefinedMetadata, the
// .keras metadata.json, an h5 root attribute, ONNX metadata_props). Here it is checked against
// the graph it came with, and its prune mask is applied: pruned weights are exactly zero.
import type { GraphSpec } from '../graphSpec';
import { PruneScopeMetadata, decodePruneMask, validateMetadata } from '../model/metadata';
import { appliesSoftmax } from './keras/modelConfig';
import { flatSize, inferShapes, sizeOf } from '../model/graphShapes';

/** Sizes of the model's (single) input and output, as the metadata's per-column fields count them. */
export function ioSizes(spec: GraphSpec, file?: string): { inputSize: number; outputSize: number } {
  const shapes = inferShapes(spec, file);
  return { inputSize: sizeOf(spec.inputs[0].shape), outputSize: sizeOf(shapes.get(spec.outputs[0])!) };
}

/** Whether the output is a softmax (possibly followed by identity layers): a classifier. */
export function outputIsSoftmax(spec: GraphSpec): boolean {
  const byName = new Map(spec.nodes.map((x) => [x.name, x]));
  let name = spec.outputs[0];
  for (;;) {
    const n = byName.get(name);
    if (!n) return false;
    if (appliesSoftmax(n)) return true;
    if (n.className !== 'Identity' || n.inputs.length !== 1) return false;
    name = n.inputs[0];
  }
}

/**
 * Validates raw metadata against the graph and applies its prune mask to the graph's weights
 * (a non-zero value under the mask is set to zero, with a warning).
 */
export function attachMetadata(
  spec: GraphSpec,
  raw: unknown,
  file: string,
  warnings: string[],
): { metadata?: PruneScopeMetadata; pruneMask?: Uint8Array } {
  if (raw === undefined) return {};
  const metadata = validateMetadata(raw, ioSizes(spec, file), file);
  const softmax = outputIsSoftmax(spec);
  if (metadata.task && metadata.task !== (softmax ? 'classification' : 'regression'))
    warnings.push(`metadata says task ${metadata.task} but the output ${softmax ? 'is' : 'is not'} a softmax`);
  if (!metadata.pruneMask) return { metadata };
  const pruneMask = decodePruneMask(metadata.pruneMask, flatSize(spec), file);
  let j = 0;
  let forced = 0;
  for (const n of spec.nodes)
    for (const w of n.weights) {
      if (!w.trainable) continue;
      for (let i = 0; i < w.values.length; i++, j++)
        if (pruneMask[j] && w.values[i] !== 0) {
          w.values[i] = 0;
          forced++;
        }
    }
  if (forced > 0)
    warnings.push(`${forced} parameter(s) marked pruned in the metadata were non-zero and were set to zero`);
  return { metadata, pruneMask };
}

/** Checks metadata before it is written with a graph (same rules as on reading). */
export function checkMetadataForWrite(spec: GraphSpec, metadata: PruneScopeMetadata | undefined, file: string): void {
  if (!metadata) return;
  validateMetadata(metadata, ioSizes(spec, file), file);
  if (metadata.pruneMask) decodePruneMask(metadata.pruneMask, flatSize(spec), file);
}
