// Notebook kernel: each cell's source goes to the worker as a `cell` job (one cell at a time, in
// order); its outputs come back as mime items. Running code needs a trusted workspace.
import * as vscode from 'vscode';
import type { EngineClient } from '../engineClient';
import { EngineError } from '../engineClient';
import { ERROR_MIME } from './ipynb';
import { toItem } from './serializer';

export const NOTEBOOK_TYPE = 'prunescope-notebook';

export function createController(client: EngineClient, log: vscode.LogOutputChannel): vscode.Disposable {
  const controller = vscode.notebooks.createNotebookController('prunescope-kernel', NOTEBOOK_TYPE, 'PruneScope (JavaScript)');
  controller.supportedLanguages = ['javascript'];
  controller.supportsExecutionOrder = true;
  controller.description = 'Runs cells in the PruneScope engine worker';
  let order = 0;
  controller.executeHandler = async (cells, notebook) => {
    for (const cell of cells) {
      const exec = controller.createNotebookCellExecution(cell);
      exec.executionOrder = ++order;
      exec.start(Date.now());
      await exec.clearOutput();
      if (!vscode.workspace.isTrusted) {
        await exec.replaceOutput(new vscode.NotebookCellOutput([toItem({ mime: 'text/plain', data: 'PruneScope runs notebook code only in a trusted workspace (Workspaces: Manage Workspace Trust).' })]));
        exec.end(false, Date.now());
        continue;
      }
      const handle = client.run('cell', { source: cell.document.getText(), notebook: notebook.uri.toString(), cellIndex: cell.index });
      const sub = exec.token.onCancellationRequested(() => client.cancel(handle.id));
      log.info(`cell job #${handle.id}: ${notebook.uri.toString()} cell ${cell.index}`);
      try {
        const { result, provenance } = await handle.done;
        await exec.replaceOutput(result.outputs.map((o) => new vscode.NotebookCellOutput([toItem(o)])));
        log.info(`cell job #${handle.id} finished; provenance ${JSON.stringify(provenance ?? {})}`);
        exec.end(true, Date.now());
      } catch (e) {
        const err = e instanceof EngineError ? e : new EngineError({ code: 'internal', message: String(e) });
        await exec.replaceOutput(new vscode.NotebookCellOutput([toItem({ mime: ERROR_MIME, data: { name: err.code, message: err.message, stack: err.logTail.join('\n') } })]));
        exec.end(false, Date.now());
      } finally {
        sub.dispose();
      }
    }
  };
  // Our notebooks have one sensible kernel: prefer it so "Run All" needs no kernel picker.
  const prefer = (nb: vscode.NotebookDocument) => { if (nb.notebookType === NOTEBOOK_TYPE) controller.updateNotebookAffinity(nb, vscode.NotebookControllerAffinity.Preferred); };
  vscode.workspace.notebookDocuments.forEach(prefer);
  return vscode.Disposable.from(controller, vscode.workspace.onDidOpenNotebookDocument(prefer));
}
