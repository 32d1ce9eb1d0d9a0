// The engine worker as the extension starts it: the bundle's worker.js with the settings that
// shape it (backend, heap, cancel grace, heartbeat, Belsley block limit) and the built-in data's
// folder; an unexpected exit is reported with the last log lines.
import * as path from 'path';
import * as vscode from 'vscode';
import { EngineClient } from './engineClient';
import { settings } from './settings';

export function createEngineClient(ext: vscode.ExtensionContext, log: vscode.LogOutputChannel): EngineClient {
  const cfg = () => vscode.workspace.getConfiguration('prunescope');
  return new EngineClient({
    workerPath: path.join(ext.extensionPath, 'dist', 'worker.js'),
    graceMs: () => cfg().get<number>('cancelGraceMs', 3000),
    maxMemoryMb: () => cfg().get<number>('worker.maxMemoryMb', 4096),
    heartbeatTimeoutMs: () => cfg().get<number>('worker.heartbeatTimeoutMs', 60000),
    env: () => {
      const backend = cfg().get<string>('backend', 'auto');
      // The built-in data sets ship in media/data; say where rather than let the bundle search.
      const env: NodeJS.ProcessEnv = { PRUNESCOPE_DATA_DIR: path.join(ext.extensionPath, 'media', 'data') };
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
}
