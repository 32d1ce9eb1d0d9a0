// The PruneScope commands. Model commands take the clicked file (explorer/editor title), else
// the active model editor, else ask. Commands whose engine job has not landed yet say so.
import * as path from 'path';
import * as vscode from 'vscode';
import type { JobKind } from '../protocol';
import { modelArgFrom } from './args';
import type { EngineClient } from './engineClient';
import type { JobRunner } from './jobRunner';
import type { ModelFiles } from './modelFiles';
import type { RelevancePanel } from './panel';
import { isLayersModelJson } from './modelDetect';
import { newAnalysisNotebook } from './notebook/template';

export interface CommandDeps {
  client: EngineClient;
  runner: JobRunner;
  panel: RelevancePanel;
  models: ModelFiles;
  log: vscode.LogOutputChannel;
}

/** Model commands whose engine job is planned: id -> [job kind, title]. */
export const PLANNED_COMMANDS: Record<string, [string, string]> = {
  'prunescope.pruneModel': ['prune', 'Prune Model'],
  'prunescope.exportStudent': ['export-student', 'Export Student Architecture'],
  'prunescope.distill': ['distill', 'Distill into Student'],
  'prunescope.orderByGradientVariance': ['gradient-variance', 'Order Parameters by Gradient Variance'],
};

async function pickModel(args: unknown[], models: ModelFiles): Promise<string | undefined> {
  const a = modelArgFrom(args);
  if (a.kind === 'path') return a.path;
  if (a.kind === 'refused') { void vscode.window.showWarningMessage(`PruneScope: ${a.reason}`); return undefined; }
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && doc.uri.scheme === 'file' && isLayersModelJson(doc.getText())) return doc.uri.fsPath;
  const browse = '$(folder-opened) Browse...';
  const items = [...models.list().map((f) => ({ label: path.basename(f), description: vscode.workspace.asRelativePath(f), file: f })), { label: browse, file: '' }];
  const chosen = await vscode.window.showQuickPick(items, { title: 'PruneScope: choose a TF.js model (model.json)', placeHolder: 'LayersModel files in this workspace' });
  if (!chosen) return undefined;
  if (chosen.file) return chosen.file;
  const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'TF.js LayersModel': ['json'] }, openLabel: 'Analyze' });
  return picked?.[0]?.fsPath;
}

async function jobAvailable(client: EngineClient, kind: string): Promise<boolean> {
  try { return (await client.jobs()).includes(kind); } catch { return false; }
}

export function registerCommands(ctx: vscode.ExtensionContext, d: CommandDeps): void {
  const reg = (id: string, fn: (...args: any[]) => unknown) => ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));

  const showDemo = async () => {
    const out = await d.runner.run('demo-figure', { seed: 1, n: 12 }, 'Demo figure');
    if (out) d.panel.showFigure('Demo: relevance scores', out.result.figure, 'seeded demo data (no model)');
  };

  reg('prunescope.analyzeModel', async (...args: unknown[]) => {
    const file = await pickModel(args, d.models);
    if (!file) return;
    const out = await d.runner.run('info', { modelPath: file }, `Analyzing ${path.basename(file)}`);
    if (!out) return;
    const { info, figure } = out.result;
    await d.panel.reveal();
    d.panel.showFigure(path.basename(file), figure, `${info.layers.length} layers, ${info.totalParams} parameters`);
    void vscode.window.showInformationMessage(`PruneScope: ${path.basename(file)} has ${info.layers.length} layers and ${info.totalParams} parameters.`);
  });

  for (const [id, [kind, title]] of Object.entries(PLANNED_COMMANDS)) {
    reg(id, async (...args: unknown[]) => {
      if (!(await jobAvailable(d.client, kind))) {
        void vscode.window.showInformationMessage(`PruneScope: ${title} is not available yet in this version (its engine part has not landed).`);
        return;
      }
      const file = await pickModel(args, d.models);
      if (!file) return;
      // Wired for real once the job's params are defined in src/protocol/jobs.ts.
      await d.runner.run(kind as JobKind, { modelPath: file } as never, `${title}: ${path.basename(file)}`);
    });
  }

  reg('prunescope.showPanel', async () => {
    await d.panel.reveal();
    if (!d.panel.hasFigure) await showDemo();
  });
  reg('prunescope.selfTest', async () => {
    const out = await d.runner.run('long-demo', { steps: 60, stepMs: 500 }, 'Engine self-test');
    if (out) void vscode.window.showInformationMessage(`PruneScope: engine self-test completed ${out.result.completed} steps.`);
  });
  reg('prunescope.cancelJob', () => {
    const n = d.runner.cancelAll();
    if (n === 0) void vscode.window.showInformationMessage('PruneScope: no job is running.');
  });
  reg('prunescope.restartEngine', async () => {
    d.client.restart('engine restarted by the user');
    const jobs = await d.client.jobs();
    d.log.info(`engine restarted (pid ${d.client.pid}); jobs: ${jobs.join(', ')}`);
    void vscode.window.showInformationMessage(`PruneScope: engine restarted (pid ${d.client.pid}).`);
  });
  reg('prunescope.showLog', () => d.log.show());
  reg('prunescope.newNotebook', async (...args: unknown[]) => {
    const a = modelArgFrom(args);
    const data = newAnalysisNotebook(a.kind === 'path' ? a.path : undefined);
    const doc = await vscode.workspace.openNotebookDocument('prunescope-notebook', data);
    await vscode.window.showNotebookDocument(doc);
  });
}

export function panelRequestHandler(d: Pick<CommandDeps, 'runner' | 'panel'>) {
  return async (name: 'demo' | 'model') => {
    if (name === 'demo') {
      const out = await d.runner.run('demo-figure', { seed: 1 + Math.floor(Math.random() * 1000), n: 12 }, 'Demo figure');
      if (out) d.panel.showFigure('Demo: relevance scores', out.result.figure, 'seeded demo data (no model)');
    }
  };
}
