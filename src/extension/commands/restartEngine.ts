// PruneScope: Restart Engine: a fresh worker (settings such as the backend take effect), saying
// which jobs it provides.
import * as vscode from 'vscode';
import type { Deps } from '../deps';

export async function restartEngine(d: Deps): Promise<void> {
  d.client.restart('engine restarted by the user');
  const jobs = await d.client.jobs();
  d.log.info(`engine restarted (pid ${d.client.pid}); jobs: ${jobs.join(', ')}`);
  void vscode.window.showInformationMessage(`PruneScope: engine restarted (pid ${d.client.pid}).`);
}
