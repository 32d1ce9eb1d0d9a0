// `info`: a summary of a model file. A TF.js model.json is summarised from the JSON alone
// (topology + weights manifest), so it is instant even for big models; the other formats (.keras,
// .h5, .onnx) are read by the formats readers and summarised from their GraphSpec.
import * as fs from 'fs';
import * as path from 'path';
import { PruneScopeError, badInput } from '../../engine/errors';
import { detectFormat, readModel, type ModelFile } from '../../engine/formats';
import type { LayerSummary, ModelInfo, PlotlyFigure } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { obj, str } from './params';

interface ManifestWeight {
  name: string;
  shape: number[];
}

/** A JSON object as read from the file: every field unchecked until used. */
type Raw = Record<string, unknown>;
const raw = (v: unknown): Raw | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Raw) : undefined;

export function summarizeModelJson(json: unknown, file: string): ModelInfo {
  const o = raw(json) ?? {};
  const topo = raw(o.modelTopology);
  const config = raw(topo?.model_config)?.config ?? topo?.config;
  const layersRaw = Array.isArray(config) ? config : raw(config)?.layers;
  if (!Array.isArray(layersRaw)) {
    throw badInput('not a TF.js LayersModel', {
      file,
      field: 'modelTopology.model_config.config.layers',
      expected: 'an array of layer configs',
    });
  }
  if (!Array.isArray(o.weightsManifest))
    throw badInput('no weights manifest', { file, field: 'weightsManifest', expected: 'an array of weight groups' });
  const groups = o.weightsManifest.map(raw);
  const weights = groups.flatMap((g) => (Array.isArray(g?.weights) ? g.weights : [])) as ManifestWeight[];
  const weightFiles = groups.flatMap((g) => (Array.isArray(g?.paths) ? g.paths : [])) as string[];
  const count = (shape: unknown) =>
    Array.isArray(shape) ? shape.reduce((a: number, b: unknown) => a * (typeof b === 'number' ? b : 0), 1) : 0;
  let inputShape: (number | null)[] | undefined;
  const layers: LayerSummary[] = layersRaw.map((v, i) => {
    const l = raw(v);
    const c = raw(l?.config) ?? {};
    const name = String(c.name ?? `layer_${i}`);
    if (!inputShape && Array.isArray(c.batch_input_shape)) inputShape = c.batch_input_shape as (number | null)[];
    const params = weights
      .filter((w) => typeof w.name === 'string' && w.name.split('/')[0] === name)
      .reduce((s, w) => s + count(w.shape), 0);
    return {
      name,
      className: String(l?.class_name ?? 'unknown'),
      units: typeof c.units === 'number' ? c.units : undefined,
      activation: typeof c.activation === 'string' ? c.activation : undefined,
      params,
    };
  });
  return {
    path: file,
    format: 'tfjs',
    layers,
    totalParams: weights.reduce((s, w) => s + count(w.shape), 0),
    inputShape,
    weightFiles,
  };
}

/** The summary of a model read by a formats reader: its nodes, with every weight counted (as the manifest's). */
export function summarizeModelFile(m: ModelFile): ModelInfo {
  const count = (shape: number[]) => shape.reduce((a, b) => a * b, 1);
  const layers: LayerSummary[] = m.spec.nodes.map((n) => {
    const c = n.config as { units?: unknown; activation?: unknown; kind?: unknown };
    const source = n.source as { class_name?: unknown } | undefined;
    return {
      name: n.name,
      className:
        typeof source?.class_name === 'string' ? source.class_name : typeof c.kind === 'string' ? c.kind : n.className,
      units: typeof c.units === 'number' ? c.units : undefined,
      activation: typeof c.activation === 'string' ? c.activation : undefined,
      params: n.weights.reduce((s, w) => s + count(w.shape), 0),
    };
  });
  return {
    path: m.path,
    format: m.format.type,
    layers,
    totalParams: layers.reduce((s, l) => s + l.params, 0),
    inputShape: [null, ...m.format.inputShape],
    weightFiles: [path.basename(m.path)],
  };
}

export function infoFigure(info: ModelInfo): PlotlyFigure {
  const withParams = info.layers.filter((l) => l.params > 0);
  return {
    data: [{ type: 'bar', name: 'parameters', x: withParams.map((l) => l.name), y: withParams.map((l) => l.params) }],
    layout: {
      title: { text: `${path.basename(info.path)}: ${info.totalParams} parameters` },
      xaxis: { title: { text: 'layer' } },
      yaxis: { title: { text: 'parameters' } },
    },
  };
}

export const infoJob: JobHandler<'info'> = {
  kind: 'info',
  parse(p) {
    return { modelPath: str(obj(p, 'info'), 'modelPath', 'info') };
  },
  async run({ modelPath }, ctx) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(modelPath);
    } catch {
      throw new PruneScopeError('not-found', 'model file does not exist', { file: modelPath });
    }
    const { format, file } = detectFormat(modelPath);
    const mtimeMs = file === modelPath ? stat.mtimeMs : fs.statSync(file).mtimeMs;
    // Keyed by path + mtime so an edited file is re-read but a re-plot is free.
    const key = `info:${file}:${mtimeMs}`;
    let info = ctx.cache.get(key) as ModelInfo | undefined;
    if (!info) {
      if (format === 'tfjs') {
        let json: unknown;
        try {
          json = JSON.parse(fs.readFileSync(file, 'utf8'));
        } catch (e) {
          throw badInput(`not valid JSON: ${(e as Error).message}`, { file });
        }
        info = summarizeModelJson(json, file);
      } else {
        info = summarizeModelFile(await readModel(file));
      }
      ctx.cache.set(key, info);
    } else {
      ctx.log(`info: ${modelPath} from cache`);
    }
    return {
      result: { info, figure: infoFigure(info) },
      provenance: { job: 'info', time: new Date().toISOString(), options: { modelPath, mtimeMs } },
    };
  },
};
