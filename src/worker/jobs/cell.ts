// `cell`: a notebook cell's JavaScript, run as the body of an async function (so top-level
// await works) with the PruneScope API in scope and the notebook's variables kept between cells
// (cellScope.ts); `cell-reset` forgets them. The extension only sends cells from trusted
// workspaces; this is the user's own code running with the user's rights, like any kernel.
import * as path from 'path';
import * as url from 'url';
import * as util from 'util';
import { FIGURE_MIME, figureProblem, type CellOutput } from '../../protocol';
import { PruneScopeError, badInput } from '../../engine/errors';
import type { JobContext, JobHandler } from '../jobTypes';
import { demoFigure } from './demo';
import { infoJob } from './modelInfo';
import { int, obj, str } from './params';
import { makeEngineApi } from './cellApi';
import { CELL_PARAMS, cellState, resetCellState, scopeProxy, scopedBody } from './cellScope';

const AsyncFunction = Object.getPrototypeOf(async function () {
  /* prototype only */
}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<unknown>;

/** The `prunescope` object a cell sees (exported so tests can check the notebook template against it). */
export function makeApi(outputs: CellOutput[], ctx: JobContext, notebook: string) {
  // Relative paths in a cell mean "next to the notebook", as in Jupyter.
  const base = notebook.startsWith('file:') ? path.dirname(url.fileURLToPath(notebook)) : process.cwd();
  const resolve = (p: string) => path.resolve(base, p);
  const print = (...values: unknown[]) =>
    outputs.push({
      mime: 'text/plain',
      data: values.map((v) => (typeof v === 'string' ? v : util.inspect(v, { depth: 4 }))).join(' '),
    });
  return {
    // analysis, curves, whatif, belsley, gradientVariance/order, freeze, prune, exportStudent,
    // distill, train, figures.* (docs/NOTEBOOK-API.md).
    ...makeEngineApi(ctx, resolve),
    /** Draw a plotly figure (SVG trace types) below the cell. */
    plot(figure: unknown) {
      const problem = figureProblem(figure);
      if (problem) throw badInput(`plot: ${problem}`);
      outputs.push({ mime: FIGURE_MIME, data: JSON.parse(JSON.stringify(figure)) });
    },
    display: print,
    print,
    /** Summary of a TF.js LayersModel file (path relative to the notebook's folder or absolute). */
    async info(modelPath: string) {
      return (await infoJob.run(infoJob.parse({ modelPath: resolve(String(modelPath)) }), ctx)).result.info;
    },
    demoFigure: (seed = 1, n = 12) => demoFigure(seed, n),
    progress: (fraction: number, message?: string) => ctx.progress(fraction, message),
    /** A delay that ends early (rejecting) when the cell is interrupted, so a polling loop stops. */
    sleep: (ms: number) => {
      let t: NodeJS.Timeout | undefined;
      return untilAborted(
        new Promise<void>((r) => {
          t = setTimeout(r, ms);
        }),
        ctx.signal,
      ).finally(() => clearTimeout(t));
    },
    get cancelled() {
      return ctx.signal.aborted;
    },
    /** Throws when the cell was interrupted: for loops that do not await prunescope calls. */
    checkCancelled() {
      if (ctx.signal.aborted) throw cancelledError();
    },
  };
}

const cancelledError = () => new PruneScopeError('cancelled', 'cell interrupted');

/**
 * Settles with `p`, or rejects as soon as `signal` aborts: an interrupted cell ends at once even if its code ignores
 * the signal.
 */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(cancelledError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(cancelledError());
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export const cellJob: JobHandler<'cell'> = {
  kind: 'cell',
  parse(p) {
    const o = obj(p, 'cell');
    if (typeof o.source !== 'string') throw badInput('cell: source must be a string', { field: 'source' });
    if (typeof o.notebook !== 'string') throw badInput('cell: notebook must be a string', { field: 'notebook' });
    return { source: o.source, notebook: o.notebook, cellIndex: int(o, 'cellIndex', 'cell', 0, 1e6) };
  },
  async run({ source, notebook, cellIndex }, ctx) {
    const outputs: CellOutput[] = [];
    const api = makeApi(outputs, ctx, notebook);
    const fn = new AsyncFunction('__cellScope', ...CELL_PARAMS, scopedBody(source));
    const cellConsole = { ...console, log: api.print, info: api.print, warn: api.print, error: api.print };
    const running = fn(scopeProxy(cellState(ctx.cache, notebook)), api, api.plot, api.display, api.print, cellConsole);
    // Code still running after an interrupt can only touch this cell's discarded outputs.
    running.catch(() => undefined);
    const value = await untilAborted(running, ctx.signal);
    if (value !== undefined) {
      if (figureProblem(value) === undefined) api.plot(value);
      else api.print(value);
    }
    return {
      result: { outputs },
      provenance: { job: 'cell', time: new Date().toISOString(), options: { notebook, cellIndex } },
    };
  },
};

export const cellResetJob: JobHandler<'cell-reset'> = {
  kind: 'cell-reset',
  parse: (p) => ({ notebook: str(obj(p, 'cell-reset'), 'notebook', 'cell-reset') }),
  async run({ notebook }, ctx) {
    return {
      result: { cleared: resetCellState(ctx.cache, notebook) },
      provenance: { job: 'cell-reset', time: new Date().toISOString(), options: { notebook } },
    };
  },
};
