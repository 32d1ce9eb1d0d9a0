// Extension entry: wires one engine worker, the job runner, the model list, the model in focus,
// the analysis views (side panel, editor panel), the commands (one module each in commands/) and
// the *.prune.ipynb notebook.
// Activation: VS Code's implicit events for the contributed commands, views and notebook
// serializer, opening a PruneScope notebook, and a workspace holding a file that looks like a model
// (model.json, .keras, .h5, .onnx), so the Models list and the explorer's menus are ready there;
// any other workspace (every package.json is JSON) pays nothing until a PruneScope command or view
// is used. The worker itself is forked lazily. No telemetry.
import * as vscode from 'vscode';
import { followActiveEditor } from './analysis';
import { analyzeModel } from './commands/analyzeModel';
import { cancelJob } from './commands/cancelJob';
import { distill } from './commands/distill';
import { exportStudentCommand } from './commands/exportStudent';
import { newNotebook } from './commands/newNotebook';
import { openAnalysisInEditor } from './commands/openAnalysisInEditor';
import { orderByGradientVariance } from './commands/orderByGradientVariance';
import { pruneModel } from './commands/pruneModel';
import { restartEngine } from './commands/restartEngine';
import { selfTest } from './commands/selfTest';
import { showLog } from './commands/showLog';
import { showPanel } from './commands/showPanel';
import type { Deps } from './deps';
import { createEngineClient } from './engine';
import type { EngineClient } from './engineClient';
import { ModelFocus } from './focus';
import { JobRunner } from './jobRunner';
import { ModelFiles } from './modelFiles';
import { createController, NOTEBOOK_TYPE } from './notebook/controller';
import { PruneNotebookSerializer } from './notebook/serializer';
import { AnalysisEditorPanel, EDITOR_VIEW_TYPE } from './editorPanel';
import { RelevancePanel, SIDE_VIEW_ID, revealSidePanel } from './panel';
import { panelActions } from './panelActions';
import { AnalysisViews } from './views';

let client: EngineClient | undefined;

/** Every command: its id (declared in package.json) and the module that runs it. */
const COMMANDS: [string, (d: Deps, ...args: unknown[]) => unknown][] = [
  ['prunescope.analyzeModel', analyzeModel],
  ['prunescope.pruneModel', pruneModel],
  ['prunescope.exportStudent', exportStudentCommand],
  ['prunescope.distill', distill],
  ['prunescope.orderByGradientVariance', orderByGradientVariance],
  ['prunescope.showPanel', showPanel],
  ['prunescope.openAnalysisInEditor', openAnalysisInEditor],
  ['prunescope.newNotebook', newNotebook],
  ['prunescope.selfTest', selfTest],
  ['prunescope.cancelJob', cancelJob],
  ['prunescope.restartEngine', restartEngine],
  ['prunescope.showLog', showLog],
];

export function activate(ext: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('PruneScope', { log: true });
  const c = createEngineClient(ext, log);
  client = c;
  const runner = new JobRunner(c, log);
  const models = new ModelFiles(log);
  const focus = new ModelFocus(ext.workspaceState);
  // The views ask for their actions only when a page sends something (after activation).
  const views = new AnalysisViews(ext.extensionUri, log, () => panelActions(d), revealSidePanel);
  const editorPanel = new AnalysisEditorPanel(views, focus, ext.extensionUri);
  const d: Deps = { ext, client: c, runner, panel: views, editorPanel, models, focus, log };
  ext.subscriptions.push(
    log,
    { dispose: () => c.dispose() },
    runner,
    models,
    focus,
    vscode.window.registerTreeDataProvider('prunescope.models', models),
    views,
    editorPanel,
    vscode.window.registerWebviewViewProvider(SIDE_VIEW_ID, new RelevancePanel(views), {
      webviewOptions: { retainContextWhenHidden: false },
    }),
    vscode.window.registerWebviewPanelSerializer(EDITOR_VIEW_TYPE, editorPanel),
    ...COMMANDS.map(([id, run]) => vscode.commands.registerCommand(id, (...args: unknown[]) => run(d, ...args))),
    followActiveEditor(d),
    vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new PruneNotebookSerializer(), {
      transientOutputs: false,
    }),
    createController(c, log),
  );
  void vscode.commands.executeCommand('setContext', 'prunescope.jobRunning', false);
  void models.scan().catch((e) => log.warn(`model scan failed: ${(e as Error).message}`));
  log.info(`PruneScope ${ext.extension.packageJSON.version} activated`);
}

export function deactivate(): void {
  client?.dispose();
  client = undefined;
}
