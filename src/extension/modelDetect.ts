// Is this JSON text a TF.js LayersModel? Decided by content (modelTopology with a Keras layer
// config + weightsManifest), not by the file name: users save models under any *.json name.
export const MAX_MODEL_JSON_BYTES = 32 * 1024 * 1024;

type Json = Record<string, unknown>;
const obj = (v: unknown): Json | undefined =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined;

/** The layer configs of a LayersModel topology: tfjs writes {class_name, config} or wraps it in model_config. */
function topologyLayers(o: Json | undefined): { className: unknown; layers: unknown } {
  const topo = obj(o?.modelTopology);
  const cfg = obj(topo?.model_config) ?? topo;
  const config = cfg?.config;
  return { className: cfg?.class_name, layers: Array.isArray(config) ? config : obj(config)?.layers };
}

export function isLayersModelJson(text: string): boolean {
  // Cheap pre-check so scanning a workspace of package.json/tsconfig files parses almost nothing.
  if (!text.includes('"modelTopology"') || !text.includes('"weightsManifest"')) return false;
  let o: Json | undefined;
  try {
    o = obj(JSON.parse(text));
  } catch {
    return false;
  }
  const { className, layers } = topologyLayers(o);
  return typeof className === 'string' && Array.isArray(layers) && Array.isArray(o?.weightsManifest);
}

/**
 * Input size (the product of a row's dimensions: 784 for 28 x 28 x 1 images), the row's shape
 * when it is an image, and output units (the last Dense layer) of a Sequential LayersModel, when
 * the JSON says them.
 */
export function modelIo(text: string): { inputs?: number; outputs?: number; inputShape?: number[] } {
  let layers: unknown;
  try {
    layers = topologyLayers(obj(JSON.parse(text))).layers;
  } catch {
    return {};
  }
  if (!Array.isArray(layers) || layers.length === 0) return {};
  const configs = layers.map((l) => obj(obj(l)?.config));
  const shape = configs.map((c) => c?.batch_input_shape ?? c?.batchInputShape).find((s) => Array.isArray(s));
  const dims = Array.isArray(shape) ? shape.slice(1) : [];
  const known = dims.length > 0 && dims.every((d) => Number.isInteger(d) && d > 0);
  const units = [...configs].reverse().find((c) => Number.isInteger(c?.units))?.units;
  return {
    inputs: known ? (dims as number[]).reduce((a, b) => a * b, 1) : undefined,
    outputs: units as number | undefined,
    ...(known && dims.length > 1 ? { inputShape: dims as number[] } : {}),
  };
}
