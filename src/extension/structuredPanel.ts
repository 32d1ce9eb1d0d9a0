// The host's side of the analysis views' channel part, free of `vscode` so it runs under test with
// a fake worker: after the analysis of a conv model, its dependency groups and every method's
// channel relevance (one message to the pages); and the job parameters of the pages' what-if,
// save and export requests (weight-level, or whole channels when the page asks for `structured`).
import type { FromWebview, JobKind, JobParams, JobResult, PanelStructured } from '../protocol';

/** Runs one engine job and resolves with its result (the engine client, or a fake in tests). */
export type JobCaller = <K extends JobKind>(kind: K, params: JobParams<K>) => Promise<JobResult<K>>;

/**
 * The channel view of `modelPath` on `data`: undefined for a model without a Conv2D (its units are
 * the heatmaps' business). Rankings come from the worker's cache the analysis filled.
 */
export async function loadStructured(
  call: JobCaller,
  modelPath: string,
  data: string,
  methods: string[],
): Promise<PanelStructured | undefined> {
  if (!methods.length) return undefined;
  const relevance: PanelStructured['relevance'] = {};
  for (const method of methods) {
    const r = await call('channel-relevance', { modelPath, data, seed: 0, method });
    if (!r.firstConv) return undefined;
    relevance[method] = { groups: r.groups, firstConv: r.firstConv };
  }
  const g = await call('groups', { modelPath });
  return { model: modelPath, groups: g.groups, removableChannels: g.removableChannels, relevance };
}

type Whatif = Extract<FromWebview, { type: 'whatif' }>;

/** The what-if job a page's slider asks for, on the model in focus (the seed the analysis used). */
export function whatifParams(focus: { modelPath: string; data: string }, m: Whatif): JobParams<'whatif'> {
  return {
    modelPath: focus.modelPath,
    data: focus.data,
    seed: 0,
    method: m.method,
    share: m.share,
    ...(m.structured ? { structured: m.structured } : {}),
  };
}
