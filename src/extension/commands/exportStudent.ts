// PruneScope: Export Student Architecture...: a physically smaller student in a NEW folder beside
// the model: for a model with convolutions, by whole channels (narrower convolutions, BN folded if
// asked); for a dense chain, a pruned share or target hidden widths. Also what the panel's Export
// button runs.
import * as path from 'path';
import * as vscode from 'vscode';
import { type Method } from '../args';
import { newFolder, requireJob, type Deps } from '../deps';
import { askWidths, pickData, pickFoldBn, pickMethod, pickModel, pickPruningUnit, pickShare } from '../pickers';
import {
  exportStudentParams,
  hasBatchNorm,
  shareNoun,
  studentTag,
  type ModelLayers,
  type StudentChoices,
  type StudentSizing,
} from '../studentChoices';

const TITLE = 'Export Student';

export async function exportStudentCommand(d: Deps, ...args: unknown[]): Promise<void> {
  if (!(await requireJob(d, 'export-student'))) return;
  const file = await pickModel(args, d.models);
  if (!file) return;
  const info = await d.runner.run('info', { modelPath: file }, `Reading ${path.basename(file)}`);
  if (!info) return;
  const layers: ModelLayers = { classNames: info.result.info.layers.map((l) => l.className) };
  const method = await pickMethod(TITLE);
  if (!method) return;
  const unit = await pickPruningUnit(TITLE, layers);
  if (!unit) return;
  let choices: StudentChoices;
  if (unit === 'none') {
    const sizing = await pickDenseSizing();
    if (!sizing) return;
    choices = { method, sizing };
  } else {
    const share = await pickShare(TITLE, shareNoun(unit));
    if (share === undefined) return;
    let foldBn = false;
    if (hasBatchNorm(layers)) {
      const fold = await pickFoldBn(TITLE);
      if (fold === undefined) return;
      foldBn = fold;
    }
    choices = { method, sizing: { fraction: share }, structured: unit, foldBn };
  }
  const data = await pickData(file, d.focus);
  if (!data) return;
  await exportStudent(d, file, data, choices.method, choices.sizing, choices);
}

/** The dense-chain student: a pruned share (dead units dropped) or the hidden widths. */
async function pickDenseSizing(): Promise<StudentSizing | undefined> {
  const how = await vscode.window.showQuickPick(
    [
      { label: 'Prune a share, then drop dead units', by: 'fraction' as const },
      { label: 'Give the hidden widths', by: 'widths' as const },
    ],
    { title: `PruneScope: ${TITLE}: size of the student` },
  );
  if (!how) return undefined;
  if (how.by === 'fraction') {
    const share = await pickShare(TITLE);
    return share === undefined ? undefined : { fraction: share };
  }
  const widths = await askWidths(TITLE);
  return widths ? { widths } : undefined;
}

/** Runs the export-student job into a new folder, opens student.json and reports the sizes. */
export async function exportStudent(
  d: Deps,
  modelPath: string,
  data: string,
  method: Method,
  sizing: StudentSizing,
  structured?: Pick<StudentChoices, 'structured' | 'foldBn'>,
): Promise<void> {
  const choices: StudentChoices = { method, sizing, ...structured };
  const out = newFolder(modelPath, 'student', studentTag(choices));
  const unit = choices.structured && choices.structured !== 'none' ? ` by ${choices.structured}` : '';
  const r = await d.runner.run(
    'export-student',
    exportStudentParams(modelPath, data, choices, out),
    `Exporting a student of ${path.basename(modelPath)}${unit}`,
  );
  if (!r) return;
  const x = r.result;
  await vscode.window.showTextDocument(vscode.Uri.file(x.studentJson));
  const macs =
    x.macsBefore !== undefined && x.macsAfter !== undefined ? `, ${x.macsBefore} -> ${x.macsAfter} MACs/example` : '';
  void vscode.window.showInformationMessage(
    `PruneScope: student ${x.widthsBefore.join('-')} -> ${x.widthsAfter.join('-')}: ${x.paramsBefore} -> ${x.paramsAfter} parameters${macs}, in ${vscode.workspace.asRelativePath(x.out)}.`,
  );
}
