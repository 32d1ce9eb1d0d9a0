// What the commands and the panel's actions share: the extension's services, and the checks a
// flow makes before it asks for anything (a trusted workspace; an engine that has the job).
import * as fs from 'fs';
import * as vscode from 'vscode';
import { outputFolder } from './args';
import type { EngineClient } from './engineClient';
import type { ModelFocus } from './focus';
import type { JobRunner } from './jobRunner';
import type { ModelFiles } from './modelFiles';
import type { AnalysisEditorPanel } from './editorPanel';
import type { AnalysisViews } from './views';

export interface Deps {
  ext: vscode.ExtensionContext;
  client: EngineClient;
  runner: JobRunner;
  /** The analysis views (side panel and editor panel): what they show. */
  panel: AnalysisViews;
  editorPanel: AnalysisEditorPanel;
  models: ModelFiles;
  focus: ModelFocus;
  log: vscode.LogOutputChannel;
}

/** How messages name a job's flow. */
const TITLES: Record<string, string> = {
  prune: 'Prune Model',
  'export-student': 'Export Student Architecture',
  distill: 'Distill into Student',
  'gradient-variance': 'Order Parameters by Gradient Variance',
  'freeze-timeline': 'Freeze timeline',
  analysis: 'Relevance panel analysis',
  whatif: 'What-if',
};

/** Whether the engine provides `kind` (false when it cannot start). */
export async function available(d: Deps, kind: string): Promise<boolean> {
  try {
    return (await d.client.jobs()).includes(kind);
  } catch {
    return false;
  }
}

/**
 * True when `kind` may run now. Restricted Mode: only reading (info) runs; jobs that train, read
 * data or write files wait for trust. Every command's job ships in the bundled engine, but a worker
 * from an older bundle (or one that failed to start) could lack it: say which and how to recover.
 */
export async function requireJob(d: Deps, kind: string): Promise<boolean> {
  const title = TITLES[kind] ?? kind;
  if (!vscode.workspace.isTrusted) {
    void vscode.window.showInformationMessage(
      `PruneScope: ${title} needs a trusted workspace (it reads data and writes files). In Restricted Mode, Analyze Model only describes the model.`,
    );
    return false;
  }
  let jobs: string[];
  try {
    jobs = await d.client.jobs();
  } catch (e) {
    void vscode.window.showErrorMessage(
      `PruneScope: ${title}: the engine did not start (${e instanceof Error ? e.message : String(e)}); run PruneScope: Restart Engine, or reinstall the extension.`,
    );
    return false;
  }
  if (jobs.includes(kind)) return true;
  void vscode.window.showWarningMessage(
    `PruneScope: ${title}: this engine does not provide the '${kind}' job; run PruneScope: Restart Engine, or reinstall the extension.`,
  );
  return false;
}

/** A NEW folder beside the model for a result (never the model's own, never an existing one). */
export function newFolder(modelPath: string, what: string, tag: string): string {
  return outputFolder(modelPath, what, tag, (p) => fs.existsSync(p));
}
