// ONNX model files (.onnx, as torch.onnx.export writes them) to and from a GraphSpec. The
// protobuf is decoded with our own schema (onnx/schema.ts); onnx/import.ts maps the NCHW graph to
// the engine's NHWC layers and onnx/export.ts writes a GraphSpec back as NCHW ONNX (opset 13).
// PruneScope's metadata travels in metadata_props under "prunescope".
import * as path from 'path';
import { PruneScopeError } from '../errors';
import { writeFileAtomic } from '../util/atomicWrite';
import { parseJsonBounded, preview } from '../util/jsonLimits';
import { readFileBounded } from './keras/weightFill';
import { attachMetadata, checkMetadataForWrite } from './metadata';
import { exportOnnx } from './onnx/export';
import { importOnnx } from './onnx/import';
import { ModelMsg, ModelProto } from './onnx/schema';
import { checkFinite, checkNames, checkOutput, checkWeightShapes } from './output';
import { DEFAULT_MAX_BYTES, ModelFile, ModelToWrite, ReadOptions, WriteOptions, WrittenModel } from './types';

const EXPECTED = 'an ONNX model file (.onnx)';

/** Decodes the protobuf; any wire-format damage becomes a PruneScopeError naming the file. */
export function decodeOnnx(bytes: Uint8Array, file: string): ModelMsg {
  try {
    return ModelProto.decode(bytes) as unknown as ModelMsg;
  } catch (e) {
    throw new PruneScopeError(
      'bad-input',
      `is not a readable ONNX protobuf: ${preview(String((e as Error).message), 200)}`,
      {
        file,
        expected: `${EXPECTED} (truncated or corrupt?)`,
      },
    );
  }
}

export async function readOnnx(file: string, opts: ReadOptions = {}): Promise<ModelFile> {
  const abs = path.resolve(file);
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
  const model = decodeOnnx(readFileBounded(abs, maxBytes, EXPECTED), abs);
  const budget = { left: maxBytes };
  const { spec, opset, warnings } = importOnnx(model, abs, budget);
  for (const n of spec.nodes)
    for (const w of n.weights) {
      const bad = w.values.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0)
        throw new PruneScopeError(
          'numerical',
          `weight ${w.name} has a non-finite value (${w.values[bad]}) at entry ${bad}`,
          {
            file: abs,
            field: `node ${n.name} weight ${w.name}`,
            expected: 'finite numbers',
          },
        );
    }
  const props = new Map((model.metadataProps ?? []).map((p) => [p.key ?? '', p.value ?? '']));
  const raw = props.get('prunescope');
  const { metadata, pruneMask } = attachMetadata(
    spec,
    raw === undefined ? undefined : parseJsonBounded(raw, abs, 'PruneScope metadata in metadata_props'),
    abs,
    warnings,
  );
  return {
    spec,
    metadata,
    pruneMask,
    path: abs,
    warnings,
    format: {
      type: 'onnx',
      modelClass: 'graph',
      generatedBy: [model.producerName, model.producerVersion].filter(Boolean).join(' ') || undefined,
      inputShape: spec.inputs[0].shape.slice(),
      dtypes: ['float32'],
      weightBytes: maxBytes - budget.left,
      opset,
    },
  };
}

/** Writes a GraphSpec as an NCHW ONNX model (opset 13) that ONNX Runtime runs. Atomic; never over the input. */
export async function writeOnnx(out: string, model: ModelToWrite, opts: WriteOptions = {}): Promise<WrittenModel> {
  const file = path.resolve(out);
  checkOutput(file, 'file', opts);
  const { spec, metadata } = model;
  checkNames(spec, file);
  checkFinite(spec, file);
  checkWeightShapes(spec, file);
  checkMetadataForWrite(spec, metadata, file);
  const { model: msg, warnings } = exportOnnx(spec, metadata, file);
  const bytes = ModelProto.encode(ModelProto.fromObject(msg as Record<string, unknown>)).finish();
  writeFileAtomic(file, bytes);
  return { path: file, bytes: bytes.byteLength, format: 'onnx', warnings };
}
