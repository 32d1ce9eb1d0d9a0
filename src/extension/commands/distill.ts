// PruneScope: Distill into Student...: a student (another model, or target widths selected from
// the teacher), the temperature, alpha and epochs (settings as defaults), the data; the report
// and distill.json go to a NEW folder beside the teacher, with the distilled student in the
// teacher's format.
import * as path from 'path';
import * as vscode from 'vscode';
import { newFolder, requireJob, type Deps } from '../deps';
import { askDistillSettings, askWidths, pickData, pickModel } from '../pickers';
import { settings } from '../settings';

export async function distill(d: Deps, ...args: unknown[]): Promise<void> {
  if (!(await requireJob(d, 'distill'))) return;
  const teacher = await pickModel(args, d.models);
  if (!teacher) return;
  const others = d.models.list().filter((f) => f !== teacher);
  const choice = await vscode.window.showQuickPick(
    [
      { label: 'Target widths...', description: 'a fresh student of the given hidden widths', file: '' },
      ...others.map((f) => ({ label: path.basename(f), description: vscode.workspace.asRelativePath(f), file: f })),
    ],
    {
      title: `PruneScope: Distill ${path.basename(teacher)}: student`,
      placeHolder: 'A student model (for example an exported student) or target widths',
    },
  );
  if (!choice) return;
  let student: { studentPath: string } | { widths: number[] };
  if (choice.file) student = { studentPath: choice.file };
  else {
    const w = await askWidths('Distill');
    if (!w) return;
    student = { widths: w };
  }
  const opts = await askDistillSettings();
  if (!opts) return;
  const data = await pickData(teacher, d.focus);
  if (!data) return;
  const tag = 'widths' in student ? student.widths.join('x') : path.basename(path.dirname(student.studentPath));
  const out = newFolder(teacher, 'distilled', tag);
  const s = settings();
  const r = await d.runner.run(
    'distill',
    { teacherPath: teacher, ...student, data, seed: 0, ...opts, seeds: s.seeds, out },
    `Distilling ${path.basename(teacher)} (T ${opts.temperature}, alpha ${opts.alpha}, ${opts.epochs} epochs)`,
  );
  if (!r) return;
  const rows = r.result.rows.map((x) => `${x.name} ${x.mean.toPrecision(3)} ± ${x.sd.toPrecision(2)}`).join('; ');
  const c = await vscode.window.showInformationMessage(
    `PruneScope: distilled (${r.result.metric} over ${s.seeds} seeds): ${rows}; student ${path.basename(r.result.modelFile)}`,
    'Open distill.json',
    'Reveal',
  );
  if (c === 'Open distill.json')
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(r.result.out, 'distill.json')));
  else if (c === 'Reveal') await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(r.result.report));
}
