// Is this JSON text a TF.js LayersModel? Decided by content (modelTopology with a Keras layer
// config + weightsManifest), not by the file name: users save models under any *.json name.
export const MAX_MODEL_JSON_BYTES = 32 * 1024 * 1024;

export function isLayersModelJson(text: string): boolean {
  // Cheap pre-check so scanning a workspace of package.json/tsconfig files parses almost nothing.
  if (!text.includes('"modelTopology"') || !text.includes('"weightsManifest"')) return false;
  let o: any;
  try {
    o = JSON.parse(text);
  } catch {
    return false;
  }
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return false;
  const topo = o.modelTopology;
  if (typeof topo !== 'object' || topo === null) return false;
  const cfg = topo.model_config ?? topo; // tfjs writes {class_name, config, keras_version} or wraps it in model_config
  if (typeof cfg.class_name !== 'string') return false;
  const layers = Array.isArray(cfg.config) ? cfg.config : cfg.config?.layers;
  return Array.isArray(layers) && Array.isArray(o.weightsManifest);
}

/** Input width and output units of a Sequential dense LayersModel, when the JSON says them. */
export function modelIo(text: string): { inputs?: number; outputs?: number } {
  let o: any;
  try {
    o = JSON.parse(text);
  } catch {
    return {};
  }
  const topo = o?.modelTopology;
  const cfg = topo?.model_config ?? topo;
  const layers = Array.isArray(cfg?.config) ? cfg.config : cfg?.config?.layers;
  if (!Array.isArray(layers) || layers.length === 0) return {};
  const shape = layers
    .map((l: any) => l?.config?.batch_input_shape ?? l?.config?.batchInputShape)
    .find((s: unknown) => Array.isArray(s));
  const inputs =
    Array.isArray(shape) && Number.isInteger(shape[shape.length - 1]) ? shape[shape.length - 1] : undefined;
  const last = [...layers].reverse().find((l: any) => Number.isInteger(l?.config?.units));
  return { inputs, outputs: last ? last.config.units : undefined };
}
