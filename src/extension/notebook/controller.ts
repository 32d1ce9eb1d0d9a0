// Notebook kernel: each cell's source goes to the worker as a `cell` job (one cell at a time, in
// order); its outputs come back as mime items. Running code needs a trusted workspace.
// The worker keeps each notebook's variables between cells. No interruptHandler: VS Code then
// cancels the running cell's token, which cancels its job (the worker ends the cell at once), and
// the rest of that run is skipped, as in Jupyter. "Restart Notebook Kernel" clears the worker's
// state for the notebook (VS Code has no generic restart for custom controllers).
import * as vscode from 'vscode';
import type { EngineClient } from '../engineClient';
import { EngineError } from '../engineClient';
import { ERROR_MIME } from './ipynb';
import { toItem } from './serializer';

export const NOTEBOOK_TYPE = 'prunescope-notebook';
export const RESTART_KERNEL_COMMAND = 'prunescope.restartNotebookKernel';

export function createController(client: EngineClient, log: vscode.LogOutputChannel): vscode.Disposable {
  const controller = vscode.notebooks.createNotebookController(
    'prunescope-kernel',
    NOTEBOOK_TYPE,
    'PruneScope (JavaScript)',
  );
  controller.supportedLanguages = ['javascript'];
  controller.supportsExecutionOrder = true;
  controller.description = 'Runs cells in the PruneScope engine worker';
  const order = new Map<string, number>();
  /** The cell job running per notebook, so a restart can cancel it. */
  const runningJob = new Map<string, number>();
  controller.executeHandler = async (cells, notebook) => {
    const key = notebook.uri.toString();
    let interrupted = false;
    for (const cell of cells) {
      const exec = controller.createNotebookCellExecution(cell);
      // An interrupt during this run: the cells after the interrupted one do not run.
      if (interrupted || exec.token.isCancellationRequested) {
        interrupted = true;
        exec.end(undefined);
        continue;
      }
      const n = (order.get(key) ?? 0) + 1;
      order.set(key, n);
      exec.executionOrder = n;
      exec.start(Date.now());
      await exec.clearOutput();
      if (!vscode.workspace.isTrusted) {
        await exec.replaceOutput(
          new vscode.NotebookCellOutput([
            toItem({
              mime: 'text/plain',
              data: 'PruneScope runs notebook code only in a trusted workspace (Workspaces: Manage Workspace Trust).',
            }),
          ]),
        );
        exec.end(false, Date.now());
        continue;
      }
      const handle = client.run('cell', { source: cell.document.getText(), notebook: key, cellIndex: cell.index });
      const sub = exec.token.onCancellationRequested(() => {
        interrupted = true;
        log.info(`cell job #${handle.id}: interrupted`);
        client.cancel(handle.id);
      });
      runningJob.set(key, handle.id);
      log.info(`cell job #${handle.id}: ${key} cell ${cell.index}`);
      try {
        const { result, provenance } = await handle.done;
        await exec.replaceOutput(result.outputs.map((o) => new vscode.NotebookCellOutput([toItem(o)])));
        log.info(`cell job #${handle.id} finished; provenance ${JSON.stringify(provenance ?? {})}`);
        exec.end(true, Date.now());
      } catch (e) {
        const err = e instanceof EngineError ? e : new EngineError({ code: 'internal', message: String(e) });
        const message =
          err.code === 'cancelled' ? "Cell interrupted (cancelled); the notebook's variables are kept." : err.message;
        await exec.replaceOutput(
          new vscode.NotebookCellOutput([
            toItem({ mime: ERROR_MIME, data: { name: err.code, message, stack: err.logTail.join('\n') } }),
          ]),
        );
        exec.end(false, Date.now());
      } finally {
        sub.dispose();
        if (runningJob.get(key) === handle.id) runningJob.delete(key);
      }
    }
  };
  // Our notebooks have one sensible kernel: prefer it so "Run All" needs no kernel picker.
  const prefer = (nb: vscode.NotebookDocument) => {
    if (nb.notebookType === NOTEBOOK_TYPE)
      controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred);
  };
  vscode.workspace.notebookDocuments.forEach(prefer);

  const reset = async (nb: vscode.Uri): Promise<void> => {
    const key = nb.toString();
    order.delete(key);
    // A running cell belongs to the old state: cancel it (its execution ends as cancelled).
    const id = runningJob.get(key);
    if (id !== undefined) client.cancel(id);
    // No worker, no state to clear: do not start one for that.
    if (client.pid === undefined) return;
    await client.run('cell-reset', { notebook: key }).done;
  };
  const restart = vscode.commands.registerCommand(RESTART_KERNEL_COMMAND, async (arg?: unknown) => {
    const uri = notebookFromArg(arg) ?? vscode.window.activeNotebookEditor?.notebook.uri;
    const doc = uri && vscode.workspace.notebookDocuments.find((d) => d.uri.toString() === uri.toString());
    if (!doc || doc.notebookType !== NOTEBOOK_TYPE) {
      void vscode.window.showInformationMessage(
        'PruneScope: open a PruneScope notebook (*.prune.ipynb) to restart its kernel.',
      );
      return;
    }
    try {
      await reset(doc.uri);
      log.info(`notebook kernel restarted: ${doc.uri.toString()}`);
      void vscode.window.showInformationMessage(
        'PruneScope: notebook kernel restarted; the variables defined by earlier cells are gone.',
      );
    } catch (e) {
      void vscode.window.showErrorMessage(
        `PruneScope: could not restart the notebook kernel: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
  });
  // A closed notebook's variables would only hold memory in the worker.
  const closed = vscode.workspace.onDidCloseNotebookDocument((nb) => {
    if (nb.notebookType === NOTEBOOK_TYPE)
      reset(nb.uri).catch((e) => log.warn(`notebook state not cleared: ${e instanceof Error ? e.message : String(e)}`));
  });
  return vscode.Disposable.from(controller, vscode.workspace.onDidOpenNotebookDocument(prefer), restart, closed);
}

/** notebook/toolbar passes `{ notebookEditor: { notebookUri } }` (or a Uri); the palette passes nothing. */
function notebookFromArg(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const ctx = arg as { notebookEditor?: { notebookUri?: unknown }; uri?: unknown } | undefined;
  const u = ctx?.notebookEditor?.notebookUri ?? ctx?.uri;
  return u instanceof vscode.Uri ? u : undefined;
}
