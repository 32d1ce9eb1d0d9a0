// The prunescope.* settings, read and checked (a hand-edited settings.json can hold anything; the
// rules are args.ts's, the defaults engine/options.ts's).
import * as vscode from 'vscode';
import { readDistillSettings, readSettings, type DistillSettings, type Settings } from './args';

const config = () => vscode.workspace.getConfiguration('prunescope');

export function settings(): Settings {
  const c = config();
  return readSettings((k) => c.get(k));
}

export function distillSettings(): DistillSettings {
  const c = config();
  return readDistillSettings((k) => c.get(k));
}
