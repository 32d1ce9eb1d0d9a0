// Jobs with no engine dependency: a seeded figure (worker -> webview path) and a slow job with
// progress (cancel path). Both are used by the e2e suite.
import { Rng } from '../../engine/util/random';
import { throwIfCancelled } from '../../engine/errors';
import type { PlotlyFigure } from '../../protocol';
import type { JobHandler } from '../jobTypes';
import { int, obj } from './params';

export function demoFigure(seed: number, n: number): PlotlyFigure {
  const rng = new Rng(seed);
  const scores = Array.from({ length: n }, () => Math.abs(rng.normal()));
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  return {
    data: [{ type: 'bar', name: 'relevance', x: order.map(([, i]) => `w${i}`), y: order.map(([s]) => s) }],
    layout: {
      title: { text: `Demo relevance scores (seed ${seed})` },
      xaxis: { title: { text: 'parameter' } },
      yaxis: { title: { text: '|score|' } },
    },
  };
}

export const demoFigureJob: JobHandler<'demo-figure'> = {
  kind: 'demo-figure',
  parse(p) {
    const o = obj(p ?? {}, 'demo-figure');
    return { seed: int(o, 'seed', 'demo-figure', 0, 2 ** 31 - 1, 1), n: int(o, 'n', 'demo-figure', 1, 200, 12) };
  },
  async run({ seed, n }) {
    return {
      result: { figure: demoFigure(seed, n) },
      provenance: { job: 'demo-figure', seed, time: new Date().toISOString() },
    };
  },
};

export const longDemoJob: JobHandler<'long-demo'> = {
  kind: 'long-demo',
  parse(p) {
    const o = obj(p ?? {}, 'long-demo');
    return {
      steps: int(o, 'steps', 'long-demo', 1, 10_000, 60),
      stepMs: int(o, 'stepMs', 'long-demo', 0, 10_000, 500),
    };
  },
  async run({ steps, stepMs }, ctx) {
    for (let i = 0; i < steps; i++) {
      throwIfCancelled(ctx.signal, 'long-demo');
      ctx.progress(i / steps, `step ${i + 1} of ${steps}`);
      await new Promise((r) => setTimeout(r, stepMs));
    }
    ctx.progress(1, 'done');
    return {
      result: { completed: steps },
      provenance: { job: 'long-demo', time: new Date().toISOString(), options: { steps, stepMs } },
    };
  },
};
