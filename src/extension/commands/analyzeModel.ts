// PruneScope: Analyze Model...: describes the model (the `info` job, which also runs in
// Restricted Mode), asks for its data, opens the analysis notebook with the standard steps and
// shows the model's analysis in the side panel.
import * as path from 'path';
import * as vscode from 'vscode';
import { runAnalysis } from '../analysis';
import type { Deps } from '../deps';
import { analysisNotebook } from '../notebook/template';
import { notebookOptions, openNotebook } from '../notebook/open';
import { pickData, pickModel } from '../pickers';

export async function analyzeModel(d: Deps, ...args: unknown[]): Promise<void> {
  const file = await pickModel(args, d.models);
  if (!file) return;
  const out = await d.runner.run('info', { modelPath: file }, `Reading ${path.basename(file)}`);
  if (!out) return;
  const { info, figure } = out.result;
  void vscode.window.showInformationMessage(
    `PruneScope: ${path.basename(file)} has ${info.layers.length} layers and ${info.totalParams} parameters.`,
  );
  d.focus.set({ modelPath: file, data: d.focus.dataFor(file) ?? '', analysed: false });
  d.panel.showFigure(path.basename(file), figure, `${info.layers.length} layers, ${info.totalParams} parameters`);
  const data = await pickData(file, d.focus);
  if (!data) return;
  d.focus.set({ modelPath: file, data, analysed: false });
  await openNotebook(analysisNotebook(notebookOptions(file, data)));
  await d.panel.reveal();
  await runAnalysis(d, file, data);
}
