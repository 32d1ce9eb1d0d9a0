// Finds model files in the workspace (TF.js model.json by content; .keras, .h5, .onnx by name) and
// publishes them as context keys
// (explorer menus: `resourcePath in prunescope.modelFiles`; editor title: prunescope.activeEditorIsModel)
// and as the "Models" tree (empty tree -> viewsWelcome).
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { isLayersModelJson, MAX_MODEL_JSON_BYTES } from './modelDetect';
import { modelFileFormat } from './args';

/** Keras and ONNX files are binary: recognised by their extension (their readers check the rest). */
const BINARY_MODELS = /\.(keras|h5|onnx)$/i;

async function checkFile(uri: vscode.Uri): Promise<boolean> {
  if (uri.scheme !== 'file') return false;
  try {
    const st = await fs.promises.stat(uri.fsPath);
    if (BINARY_MODELS.test(uri.fsPath)) return st.isFile();
    if (!st.isFile() || st.size > MAX_MODEL_JSON_BYTES) return false;
    return isLayersModelJson(await fs.promises.readFile(uri.fsPath, 'utf8'));
  } catch {
    return false;
  }
}

export class ModelFiles implements vscode.TreeDataProvider<string>, vscode.Disposable {
  private readonly files = new Set<string>();
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly log: vscode.LogOutputChannel) {
    const watcher = vscode.workspace.createFileSystemWatcher('**/*.{json,keras,h5,onnx}');
    this.subs.push(
      watcher,
      watcher.onDidCreate((u) => this.update(u)),
      watcher.onDidChange((u) => this.update(u)),
      watcher.onDidDelete((u) => {
        if (this.files.delete(u.fsPath)) this.publish();
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.checkActiveEditor()),
      vscode.workspace.onDidSaveTextDocument((d) => this.update(d.uri)),
      this.changed,
    );
  }

  list(): string[] {
    return [...this.files].sort();
  }

  async scan(): Promise<void> {
    const max = vscode.workspace.getConfiguration('prunescope').get<number>('modelScan.maxFiles', 2000);
    const uris = await vscode.workspace.findFiles('**/*.{json,keras,h5,onnx}', '{**/node_modules/**,**/.git/**}', max);
    const found = await Promise.all(uris.map(async (u) => ((await checkFile(u)) ? u.fsPath : undefined)));
    this.files.clear();
    for (const f of found) if (f) this.files.add(f);
    this.log.info(`model scan: ${this.files.size} model file(s) among ${uris.length} candidate file(s)`);
    this.publish();
    await this.checkActiveEditor();
  }

  private async update(uri: vscode.Uri): Promise<void> {
    if (!uri.fsPath.toLowerCase().endsWith('.json') && !BINARY_MODELS.test(uri.fsPath)) return;
    const is = await checkFile(uri);
    if (is === this.files.has(uri.fsPath)) return;
    if (is) this.files.add(uri.fsPath);
    else this.files.delete(uri.fsPath);
    this.publish();
    await this.checkActiveEditor();
  }

  private async checkActiveEditor(): Promise<void> {
    const doc = vscode.window.activeTextEditor?.document;
    const is =
      !!doc &&
      doc.uri.scheme === 'file' &&
      doc.fileName.toLowerCase().endsWith('.json') &&
      (this.files.has(doc.uri.fsPath) || isLayersModelJson(doc.getText()));
    await vscode.commands.executeCommand('setContext', 'prunescope.activeEditorIsModel', is);
  }

  private publish(): void {
    const list = this.list();
    // Both spellings: `resourcePath` is the Uri path; on Windows fsPath differs from it.
    const keys = [...new Set(list.flatMap((f) => [f, vscode.Uri.file(f).path]))];
    void vscode.commands.executeCommand('setContext', 'prunescope.modelFiles', keys);
    void vscode.commands.executeCommand('setContext', 'prunescope.hasModels', list.length > 0);
    this.changed.fire();
  }

  getTreeItem(file: string): vscode.TreeItem {
    const item = new vscode.TreeItem(path.basename(file), vscode.TreeItemCollapsibleState.None);
    item.resourceUri = vscode.Uri.file(file);
    const rel = vscode.workspace.asRelativePath(file);
    const where = rel === file || path.dirname(rel) === '.' ? undefined : path.dirname(rel);
    item.description = where ? `${modelFileFormat(file)} · ${where}` : modelFileFormat(file);
    item.tooltip = file;
    item.contextValue = 'prunescope.model';
    item.command = { command: 'prunescope.analyzeModel', title: 'Analyze Model', arguments: [vscode.Uri.file(file)] };
    return item;
  }

  getChildren(element?: string): string[] {
    return element ? [] : this.list();
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
  }
}
