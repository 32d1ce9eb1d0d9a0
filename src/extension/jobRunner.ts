// Runs one engine job with the user-visible trimmings: a cancellable progress notification, a
// status bar item, a "PruneScope" log line with provenance, and errors as messages.
import * as vscode from 'vscode';
import type { JobKind, JobParams, JobResult, ProvenanceRecord } from '../protocol';
import { EngineClient, EngineError } from './engineClient';

export class JobRunner implements vscode.Disposable {
  private readonly status: vscode.StatusBarItem;
  private readonly active = new Map<number, string>();

  constructor(
    private readonly client: EngineClient,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.status = vscode.window.createStatusBarItem('prunescope.job', vscode.StatusBarAlignment.Left, 10);
    this.status.name = 'PruneScope job';
    this.status.command = 'prunescope.cancelJob';
  }

  get runningIds(): number[] {
    return [...this.active.keys()];
  }

  cancelAll(): number {
    const ids = this.runningIds;
    for (const id of ids) this.client.cancel(id);
    return ids.length;
  }

  /** Resolves with the result, or undefined when cancelled or failed (the user has been told). */
  async run<K extends JobKind>(
    kind: K,
    params: JobParams<K>,
    title: string,
  ): Promise<{ result: JobResult<K>; provenance?: ProvenanceRecord } | undefined> {
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `PruneScope: ${title}`, cancellable: true },
      async (progress, token) => {
        let last = 0;
        const handle = this.client.run(kind, params, (fraction, message) => {
          const pct = fraction === undefined ? undefined : Math.round(fraction * 100);
          const increment = pct === undefined ? undefined : Math.max(0, pct - last);
          if (pct !== undefined) last = Math.max(last, pct);
          progress.report({ increment, message });
          this.showStatus(title, pct);
        });
        this.active.set(handle.id, title);
        this.showStatus(title, undefined);
        this.log.info(`job #${handle.id} ${kind} started: ${JSON.stringify(params).slice(0, 500)}`);
        const sub = token.onCancellationRequested(() => {
          this.log.info(`job #${handle.id} ${kind}: cancel requested`);
          this.client.cancel(handle.id);
        });
        try {
          const out = await handle.done;
          this.log.info(
            `job #${handle.id} ${kind} finished in ${out.ms} ms; provenance ${JSON.stringify(out.provenance ?? {})}`,
          );
          return { result: out.result, provenance: out.provenance };
        } catch (e) {
          this.report(handle.id, kind, title, e);
          return undefined;
        } finally {
          sub.dispose();
          this.active.delete(handle.id);
          this.refreshStatus();
        }
      },
    );
  }

  private report(id: number, kind: string, title: string, e: unknown): void {
    if (e instanceof EngineError && e.code === 'cancelled') {
      this.log.info(`job #${id} ${kind} cancelled`);
      void vscode.window.showInformationMessage(`PruneScope: ${title} cancelled.`);
      return;
    }
    if (e instanceof EngineError && e.code === 'busy') {
      // Another job is writing the same output folder: the client refused this one (jobQueue.ts).
      this.log.warn(`job #${id} ${kind} refused: ${e.message}`);
      void vscode.window.showWarningMessage(`PruneScope: ${title} not started: ${e.message}`);
      return;
    }
    if (e instanceof EngineError && e.code === 'worker-exit') {
      // The crash, out-of-memory or hang is reported once by the client's onUnexpectedExit (with
      // the log tail); log the job here.
      this.log.error(`job #${id} ${kind} failed: ${e.message}`);
      return;
    }
    const msg = e instanceof Error ? e.message : String(e);
    const code = e instanceof EngineError ? e.code : 'internal';
    this.log.error(`job #${id} ${kind} failed [${code}]: ${msg}`);
    void vscode.window.showErrorMessage(`PruneScope: ${title} failed: ${msg}`, 'Show Log').then((c) => {
      if (c) this.log.show(true);
    });
  }

  private showStatus(title: string, pct: number | undefined): void {
    this.status.text = `$(sync~spin) PruneScope: ${title}${pct === undefined ? '' : ` ${pct}%`}`;
    this.status.tooltip = 'Click to cancel the running PruneScope job';
    this.status.show();
    void vscode.commands.executeCommand('setContext', 'prunescope.jobRunning', true);
  }

  private refreshStatus(): void {
    if (this.active.size > 0) {
      this.showStatus([...this.active.values()].at(-1)!, undefined);
      return;
    }
    this.status.hide();
    void vscode.commands.executeCommand('setContext', 'prunescope.jobRunning', false);
  }

  dispose(): void {
    this.status.dispose();
  }
}
