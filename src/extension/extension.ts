// Extension entry: one engine worker, the job runner, commands, side panel, model detection and
// the *.prune.ipynb notebook. Activation: VS Code's implicit events for the contributed commands,
// views and notebook serializer, opening a PruneScope notebook, and a workspace holding a file
// that looks like a model (model.json, .keras, .h5, .onnx), so the Models list and the explorer's
// menus are ready there; any other workspace (every package.json is JSON) pays nothing until a
// PruneScope command or view is used. The worker itself is forked lazily. No telemetry.
import * as path from 'path';
import * as vscode from 'vscode';
import { EngineClient } from './engineClient';
import { JobRunner } from './jobRunner';
import { ModelFiles } from './modelFiles';
import { RelevancePanel } from './panel';
import { registerCommands, settings, type Commands } from './commands';
import { PruneNotebookSerializer } from './notebook/serializer';
import { createController, NOTEBOOK_TYPE } from './notebook/controller';

let client: EngineClient | undefined;

export function activate(ctx: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('PruneScope', { log: true });
  ctx.subscriptions.push(log);
  const cfg = () => vscode.workspace.getConfiguration('prunescope');

  client = new EngineClient({
    workerPath: path.join(ctx.extensionPath, 'dist', 'worker.js'),
    graceMs: () => cfg().get<number>('cancelGraceMs', 3000),
    maxMemoryMb: () => cfg().get<number>('worker.maxMemoryMb', 4096),
    heartbeatTimeoutMs: () => cfg().get<number>('worker.heartbeatTimeoutMs', 60000),
    env: () => {
      const backend = cfg().get<string>('backend', 'auto');
      // The built-in data sets ship in media/data; say where rather than let the bundle search.
      const env: NodeJS.ProcessEnv = { PRUNESCOPE_DATA_DIR: path.join(ctx.extensionPath, 'media', 'data') };
      if (backend && backend !== 'auto') env.PRUNESCOPE_BACKEND = backend;
      // Belsley's exact-ordering block size: read by the worker's Belsley jobs.
      env.PRUNESCOPE_BELSLEY_BLOCK_LIMIT = String(settings().belsleyBlockLimit);
      return env;
    },
    log: (level, message) => log[level](message),
    onUnexpectedExit: (reason, tail) => {
      const last = tail.slice(-5).join('\n');
      void vscode.window
        .showErrorMessage(
          `PruneScope: the engine worker ${reason}. The next job starts a fresh one.${last ? `\nLast log lines:\n${last}` : ''}`,
          'Show Log',
        )
        .then((c) => {
          if (c) log.show(true);
        });
    },
  });
  const c = client;
  ctx.subscriptions.push({ dispose: () => c.dispose() });

  const runner = new JobRunner(c, log);
  ctx.subscriptions.push(runner);
  const models = new ModelFiles(log);
  ctx.subscriptions.push(models, vscode.window.registerTreeDataProvider('prunescope.models', models));
  let commands: Commands | undefined;
  const panel = new RelevancePanel(ctx.extensionUri, log, () => commands!.panelActions());
  ctx.subscriptions.push(
    vscode.window.registerWebviewViewProvider(RelevancePanel.viewId, panel, {
      webviewOptions: { retainContextWhenHidden: false },
    }),
  );

  commands = registerCommands(ctx, { client: c, runner, panel, models, log });

  ctx.subscriptions.push(
    vscode.workspace.registerNotebookSerializer(NOTEBOOK_TYPE, new PruneNotebookSerializer(), {
      transientOutputs: false,
    }),
    createController(c, log),
  );

  void vscode.commands.executeCommand('setContext', 'prunescope.jobRunning', false);
  void models.scan().catch((e) => log.warn(`model scan failed: ${(e as Error).message}`));
  log.info(`PruneScope ${ctx.extension.packageJSON.version} activated`);
}

export function deactivate(): void {
  client?.dispose();
  client = undefined;
}
