// PruneScope: Export Student Architecture...: a physically smaller student (a pruned share, or
// target hidden widths) in a NEW folder beside the model; also what the panel's Export button runs.
import * as path from 'path';
import * as vscode from 'vscode';
import { shareLabel, type Method } from '../args';
import { newFolder, requireJob, type Deps } from '../deps';
import { askWidths, pickData, pickMethod, pickModel, pickShare } from '../pickers';

export async function exportStudentCommand(d: Deps, ...args: unknown[]): Promise<void> {
  if (!(await requireJob(d, 'export-student'))) return;
  const file = await pickModel(args, d.models);
  if (!file) return;
  const method = await pickMethod('Export Student');
  if (!method) return;
  const how = await vscode.window.showQuickPick(
    [
      { label: 'Prune a share, then drop dead units', by: 'fraction' as const },
      { label: 'Give the hidden widths', by: 'widths' as const },
    ],
    { title: 'PruneScope: Export Student: size of the student' },
  );
  if (!how) return;
  let sizing: { fraction: number } | { widths: number[] };
  if (how.by === 'fraction') {
    const share = await pickShare('Export Student');
    if (share === undefined) return;
    sizing = { fraction: share };
  } else {
    const widths = await askWidths('Export Student');
    if (!widths) return;
    sizing = { widths };
  }
  const data = await pickData(file, d.focus);
  if (!data) return;
  await exportStudent(d, file, data, method, sizing);
}

/** Runs the export-student job into a new folder, opens student.json and reports the sizes. */
export async function exportStudent(
  d: Deps,
  modelPath: string,
  data: string,
  method: Method,
  sizing: { fraction: number } | { widths: number[] },
  /** 'channels': remove whole channels (`sizing.fraction` of the removable ones). */
  structured?: 'channels',
): Promise<void> {
  const by = structured ? `-${structured}` : '';
  const tag =
    'fraction' in sizing ? `${method}${by}-${shareLabel(sizing.fraction)}` : `${method}-${sizing.widths.join('x')}`;
  const out = newFolder(modelPath, 'student', tag);
  const r = await d.runner.run(
    'export-student',
    { modelPath, data, seed: 0, method, ...sizing, ...(structured ? { structured } : {}), out },
    `Exporting a student of ${path.basename(modelPath)}`,
  );
  if (!r) return;
  const x = r.result;
  await vscode.window.showTextDocument(vscode.Uri.file(x.studentJson));
  void vscode.window.showInformationMessage(
    `PruneScope: student ${x.widthsBefore.join('-')} -> ${x.widthsAfter.join('-')}: ${x.paramsBefore} -> ${x.paramsAfter} parameters, in ${vscode.workspace.asRelativePath(x.out)}.`,
  );
}
