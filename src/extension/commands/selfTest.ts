// PruneScope: Run Engine Self-Test: a slow job with progress, to see the worker, progress and
// cancel working end to end.
import * as vscode from 'vscode';
import type { Deps } from '../deps';

export async function selfTest(d: Deps): Promise<void> {
  const out = await d.runner.run('long-demo', { steps: 60, stepMs: 500 }, 'Engine self-test');
  if (out)
    void vscode.window.showInformationMessage(`PruneScope: engine self-test completed ${out.result.completed} steps.`);
}
