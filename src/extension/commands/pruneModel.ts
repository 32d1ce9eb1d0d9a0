// PruneScope: Prune Model...: a share of the active weights by a method (OBD asks for its
// curvature) into a NEW folder beside the model, in the model's format; also what the panel's Save
// button runs.
import * as path from 'path';
import * as vscode from 'vscode';
import { shareLabel, type Method, type Variant } from '../args';
import { newFolder, requireJob, type Deps } from '../deps';
import { pickData, pickMethod, pickModel, pickShare, pickVariant } from '../pickers';

export async function pruneModel(d: Deps, ...args: unknown[]): Promise<void> {
  if (!(await requireJob(d, 'prune'))) return;
  const file = await pickModel(args, d.models);
  if (!file) return;
  const method = await pickMethod('Prune Model');
  if (!method) return;
  let variant: Variant | undefined;
  if (method === 'obd') {
    variant = await pickVariant();
    if (!variant) return;
  }
  const share = await pickShare('Prune Model');
  if (share === undefined) return;
  const data = await pickData(file, d.focus);
  if (!data) return;
  await prune(d, file, data, method, share, variant);
}

/** Runs the prune job into a new folder beside the model, in its format, and reports it. */
export async function prune(
  d: Deps,
  modelPath: string,
  data: string,
  method: Method,
  share: number,
  variant?: Variant,
  /** 'channels': `share` is of the removable channels (whole filters), not of the weights. */
  structured?: 'channels',
): Promise<void> {
  const by = structured ? `-${structured}` : '';
  const out = newFolder(modelPath, 'pruned', `${method}${by}-${shareLabel(share)}`);
  const r = await d.runner.run(
    'prune',
    {
      modelPath,
      data,
      seed: 0,
      method,
      ...(variant ? { variant } : {}),
      ...(structured ? { structured } : {}),
      fraction: share,
      out,
    },
    `Pruning ${path.basename(modelPath)} (${method}, ${Math.round(share * 100)}%${structured ? ` of the ${structured}` : ''})`,
  );
  if (!r) return;
  const x = r.result;
  const fmt = (v: number) => (x.metric === 'accuracy' ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4));
  const choice = await vscode.window.showInformationMessage(
    `PruneScope: pruned ${x.removedChannels !== undefined ? `${x.removedChannels} of ${x.removableChannels} channels (${x.prunedTotal} parameters)` : `${x.prunedTotal} of ${x.candidates} weights`} into ${vscode.workspace.asRelativePath(x.modelFile)} (${x.format}); test ${x.metric} ${fmt(x.testBefore)} -> ${fmt(x.testAfter)}.`,
    'Reveal',
    ...(x.format === 'tfjs' ? ['Open model.json'] : []),
  );
  if (choice === 'Reveal') await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(x.modelFile));
  else if (choice === 'Open model.json') await vscode.window.showTextDocument(vscode.Uri.file(x.modelFile));
}
