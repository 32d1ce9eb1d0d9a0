// What the side panel's requests do: the demo figure, the what-if slider's measurement of the model
// in focus, and its Save pruned model / Export student buttons (at the slider's method and share;
// the channel slider's by whole channels).
import type { FromWebview, ToWebview } from '../protocol';
import type { Method } from './args';
import { exportStudent } from './commands/exportStudent';
import { prune } from './commands/pruneModel';
import { requireJob, type Deps } from './deps';
import { EngineError } from './engineClient';
import { whatifParams } from './structuredPanel';
import type { PanelActions } from './views';

export function panelActions(d: Deps): PanelActions {
  return {
    figure: async (name) => {
      if (name !== 'demo') return;
      const out = await d.runner.run(
        'demo-figure',
        { seed: 1 + Math.floor(Math.random() * 1000), n: 12 },
        'Demo figure',
      );
      if (out) d.panel.showFigure('Demo: relevance scores', out.result.figure, 'seeded demo data (no model)');
    },
    whatif: async (
      m: Extract<FromWebview, { type: 'whatif' }>,
    ): Promise<Extract<ToWebview, { type: 'whatif' | 'error' }>> => {
      const f = d.focus.current;
      if (!f?.analysed)
        return {
          type: 'error',
          message: 'Analyse a model first (PruneScope: Analyze Model...).',
          inReplyTo: m.requestId,
        };
      try {
        const { result } = await d.client.run('whatif', whatifParams(f, m)).done;
        return { type: 'whatif', inReplyTo: m.requestId, ...result };
      } catch (e) {
        const msg = e instanceof EngineError ? `${e.code}: ${e.message}` : String(e);
        d.log.warn(`what-if failed: ${msg}`);
        return { type: 'error', message: `What-if failed: ${msg}`.slice(0, 500), inReplyTo: m.requestId };
      }
    },
    savePruned: async (method, share, structured) => {
      const f = d.focus.current;
      if (!f || !(await requireJob(d, 'prune'))) return;
      // The ranking the slider measured (the analysis's defaults), so the file is what it showed.
      await prune(d, f.modelPath, f.data, method as Method, share, undefined, structured);
    },
    exportStudent: async (method, share, structured) => {
      const f = d.focus.current;
      if (!f || !(await requireJob(d, 'export-student'))) return;
      await exportStudent(
        d,
        f.modelPath,
        f.data,
        method as Method,
        { fraction: share },
        structured ? { structured } : undefined,
      );
    },
  };
}
