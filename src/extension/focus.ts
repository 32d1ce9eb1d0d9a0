// The model in focus: the one the analysis views show and the what-if slider measures (the last
// analysed, opened or followed), with its data. Also the data last chosen for each model
// (workspace state), so a model that comes back into focus brings its data with it.
import * as vscode from 'vscode';
import { rememberedData } from './args';
import { BUILTIN_NAMES } from './datasets';

export interface Focus {
  modelPath: string;
  data: string;
  /** The analysis of this model + data has finished (the what-if slider can measure it). */
  analysed: boolean;
}

const DATA_KEY = 'prunescope.dataByModel';

export class ModelFocus implements vscode.Disposable {
  private focus: Focus | undefined;
  private readonly changed = new vscode.EventEmitter<Focus | undefined>();
  readonly onDidChange = this.changed.event;

  constructor(private readonly state: vscode.Memento) {}

  get current(): Focus | undefined {
    return this.focus;
  }

  set(f: Focus | undefined): void {
    this.focus = f;
    this.changed.fire(f);
  }

  /** The data last chosen for `modelPath` (a built-in name or an absolute CSV path), if any. */
  dataFor(modelPath: string): string | undefined {
    const map = this.state.get<Record<string, unknown>>(DATA_KEY, {});
    return rememberedData(map?.[modelPath], BUILTIN_NAMES);
  }

  async remember(modelPath: string, data: string): Promise<void> {
    const map = { ...this.state.get<Record<string, unknown>>(DATA_KEY, {}) };
    map[modelPath] = data;
    await this.state.update(DATA_KEY, map);
  }

  dispose(): void {
    this.changed.dispose();
  }
}
