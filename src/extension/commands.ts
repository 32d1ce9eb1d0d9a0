// The PruneScope commands. Model commands take the clicked file (explorer/editor title), else
// the active model editor, else ask. Choices (method, variant, share, data) are quick picks whose
// rules live in args.ts (pure, unit-tested); outputs go to NEW folders beside the model. A command
// whose engine job the worker does not announce (an engine from an older bundle) names the missing job.
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import type { FromWebview, JobKind, PanelAnalysis, ToWebview } from '../protocol';
import {
  DISTILL_RULES,
  METHODS,
  SHARE_CHOICES,
  VARIANTS,
  freezeTimelineParams,
  gradientVarianceParams,
  methodOrder,
  modelArgFrom,
  outputFolder,
  parseNumberInput,
  parseShare,
  parseWidths,
  readDistillSettings,
  readSettings,
  rememberedData,
  shareLabel,
  type DistillSettings,
  type Method,
  type Settings,
  type Variant,
} from './args';
import { BUILTIN_NAMES, rankBuiltins } from './datasets';
import { EngineError, type EngineClient } from './engineClient';
import type { JobRunner } from './jobRunner';
import type { ModelFiles } from './modelFiles';
import type { PanelActions, RelevancePanel } from './panel';
import { isLayersModelJson, modelIo } from './modelDetect';
import { analysisNotebook } from './notebook/template';
import { OBD_VARIANT_DESCRIPTIONS, RELEVANCE_METHOD_DESCRIPTIONS } from '../engine/options';

export interface CommandDeps {
  client: EngineClient;
  runner: JobRunner;
  panel: RelevancePanel;
  models: ModelFiles;
  log: vscode.LogOutputChannel;
}

const TITLES: Record<string, string> = {
  prune: 'Prune Model',
  'export-student': 'Export Student Architecture',
  distill: 'Distill into Student',
  'gradient-variance': 'Order Parameters by Gradient Variance',
  'freeze-timeline': 'Freeze timeline',
  analysis: 'Relevance panel analysis',
  whatif: 'What-if',
};
const DATA_KEY = 'prunescope.dataByModel';

export const settings = (): Settings => {
  const c = vscode.workspace.getConfiguration('prunescope');
  return readSettings((k) => c.get(k));
};

async function pickModel(args: unknown[], models: ModelFiles): Promise<string | undefined> {
  const a = modelArgFrom(args);
  if (a.kind === 'path') return a.path;
  if (a.kind === 'refused') {
    void vscode.window.showWarningMessage(`PruneScope: ${a.reason}`);
    return undefined;
  }
  const doc = vscode.window.activeTextEditor?.document;
  if (doc && doc.uri.scheme === 'file' && isLayersModelJson(doc.getText())) return doc.uri.fsPath;
  const browse = '$(folder-opened) Browse...';
  const items = [
    ...models
      .list()
      .map((f) => ({ label: path.basename(f), description: vscode.workspace.asRelativePath(f), file: f })),
    { label: browse, file: '' },
  ];
  const chosen = await vscode.window.showQuickPick(items, {
    title: 'PruneScope: choose a TF.js model (model.json)',
    placeHolder: 'LayersModel files in this workspace',
  });
  if (!chosen) return undefined;
  if (chosen.file) return chosen.file;
  const picked = await vscode.window.showOpenDialog({
    canSelectMany: false,
    filters: { 'TF.js LayersModel': ['json'] },
    openLabel: 'Analyze',
  });
  return picked?.[0]?.fsPath;
}

function readIo(file: string): { inputs?: number; outputs?: number } {
  try {
    return modelIo(fs.readFileSync(file, 'utf8'));
  } catch {
    return {};
  }
}

export class Commands {
  /** The model the panel shows and the what-if slider measures: last analysed or opened. */
  focus: { modelPath: string; data: string; analysed: boolean } | undefined;

  constructor(
    private readonly ctx: vscode.ExtensionContext,
    private readonly d: CommandDeps,
  ) {}

  async available(kind: string): Promise<boolean> {
    try {
      return (await this.d.client.jobs()).includes(kind);
    } catch {
      return false;
    }
  }

  private async requireJob(kind: string): Promise<boolean> {
    // Restricted Mode: only reading (info) runs; jobs that train, read data or write files wait for trust.
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showInformationMessage(
        `PruneScope: ${TITLES[kind] ?? kind} needs a trusted workspace (it reads data and writes files). In Restricted Mode, Analyze Model only describes the model.`,
      );
      return false;
    }
    // Every command's job ships in the bundled engine; a worker from an older bundle (or one that
    // failed to start) could still lack it, so say which job is missing and how to recover.
    let jobs: string[];
    try {
      jobs = await this.d.client.jobs();
    } catch (e) {
      void vscode.window.showErrorMessage(
        `PruneScope: ${TITLES[kind] ?? kind}: the engine did not start (${e instanceof Error ? e.message : String(e)}); run PruneScope: Restart Engine, or reinstall the extension.`,
      );
      return false;
    }
    if (jobs.includes(kind)) return true;
    void vscode.window.showWarningMessage(
      `PruneScope: ${TITLES[kind] ?? kind}: this engine does not provide the '${kind}' job; run PruneScope: Restart Engine, or reinstall the extension.`,
    );
    return false;
  }

  rememberedData(modelPath: string): string | undefined {
    const map = this.ctx.workspaceState.get<Record<string, unknown>>(DATA_KEY, {});
    return rememberedData(map?.[modelPath], BUILTIN_NAMES);
  }

  private async remember(modelPath: string, data: string): Promise<void> {
    const map = { ...this.ctx.workspaceState.get<Record<string, unknown>>(DATA_KEY, {}) };
    map[modelPath] = data;
    await this.ctx.workspaceState.update(DATA_KEY, map);
  }

  /** Built-in data sets (those fitting the model's shape first) or CSV files; the last choice on top. */
  async pickData(modelPath: string): Promise<string | undefined> {
    const { inputs, outputs } = readIo(modelPath);
    const { fits, others } = rankBuiltins(inputs, outputs);
    const last = this.rememberedData(modelPath);
    type Item = vscode.QuickPickItem & { data?: string; browse?: boolean };
    const csvs = (await vscode.workspace.findFiles('**/*.csv', '{**/node_modules/**,**/.git/**}', 200)).filter(
      (u) => u.scheme === 'file',
    );
    const items: Item[] = [];
    if (last)
      items.push({
        label: BUILTIN_NAMES.includes(last) ? last : path.basename(last),
        description: 'last used',
        detail: BUILTIN_NAMES.includes(last) ? undefined : last,
        data: last,
      });
    if (fits.length) items.push({ label: 'fits this model', kind: vscode.QuickPickItemKind.Separator });
    for (const b of fits) if (b.name !== last) items.push({ label: b.name, description: b.label, data: b.name });
    if (csvs.length) items.push({ label: 'CSV files in the workspace', kind: vscode.QuickPickItemKind.Separator });
    for (const u of csvs)
      if (u.fsPath !== last)
        items.push({ label: path.basename(u.fsPath), description: vscode.workspace.asRelativePath(u), data: u.fsPath });
    items.push({ label: 'built-in data sets', kind: vscode.QuickPickItemKind.Separator });
    for (const b of others) if (b.name !== last) items.push({ label: b.name, description: b.label, data: b.name });
    items.push({ label: '$(folder-opened) Browse for a CSV file...', browse: true });
    const chosen = await vscode.window.showQuickPick(items, {
      title: `PruneScope: data for ${path.basename(modelPath)}`,
      placeHolder:
        inputs !== undefined
          ? `The model takes ${inputs} inputs${outputs !== undefined ? ` and has ${outputs} outputs` : ''}`
          : 'A built-in data set or a CSV file',
    });
    if (!chosen) return undefined;
    let data = chosen.data;
    if (chosen.browse) {
      const picked = await vscode.window.showOpenDialog({
        canSelectMany: false,
        filters: { CSV: ['csv'] },
        openLabel: 'Use this data',
      });
      data = picked?.[0]?.fsPath;
    }
    if (data) await this.remember(modelPath, data);
    return data;
  }

  async pickMethod(title: string): Promise<Method | undefined> {
    const s = settings();
    const items = methodOrder(s.defaultMethod).map((m) => ({
      label: m,
      description: m === s.defaultMethod ? 'default (prunescope.defaultMethod)' : undefined,
      detail: RELEVANCE_METHOD_DESCRIPTIONS[m],
      method: m,
    }));
    return (await vscode.window.showQuickPick(items, { title: `PruneScope: ${title}: relevance method` }))?.method;
  }

  async pickVariant(): Promise<Variant | undefined> {
    const s = settings();
    const items = [s.defaultVariant, ...VARIANTS.filter((v) => v !== s.defaultVariant)].map((v) => ({
      label: v,
      description: v === s.defaultVariant ? 'default (prunescope.defaultVariant)' : undefined,
      detail: OBD_VARIANT_DESCRIPTIONS[v],
      variant: v,
    }));
    return (
      await vscode.window.showQuickPick(items, {
        title: 'PruneScope: OBD curvature',
        placeHolder: 'Diagonal of the Hessian, the Gauss-Newton matrix or the empirical Fisher',
      })
    )?.variant;
  }

  async pickShare(title: string): Promise<number | undefined> {
    const custom = 'Custom...';
    const items = [
      ...SHARE_CHOICES.map((s) => ({
        label: `${Math.round(s * 100)}%`,
        description: String(s),
        share: s as number | undefined,
      })),
      { label: custom, description: 'a share strictly between 0 and 1', share: undefined },
    ];
    const chosen = await vscode.window.showQuickPick(items, {
      title: `PruneScope: ${title}: share of weights to prune`,
    });
    if (!chosen) return undefined;
    if (chosen.share !== undefined) return chosen.share;
    const text = await vscode.window.showInputBox({
      title: `PruneScope: ${title}: share of weights to prune`,
      prompt: 'A number strictly between 0 and 1 (0.35 or 35%)',
      value: '0.5',
      validateInput: (t) => {
        const r = parseShare(t);
        return r.ok ? undefined : r.reason;
      },
    });
    if (text === undefined) return undefined;
    const r = parseShare(text);
    return r.ok ? r.value : undefined;
  }

  newFolder(modelPath: string, what: string, tag: string): string {
    return outputFolder(modelPath, what, tag, (p) => fs.existsSync(p));
  }

  async prune(modelPath: string, data: string, method: Method, share: number, variant?: Variant): Promise<void> {
    const out = this.newFolder(modelPath, 'pruned', `${method}-${shareLabel(share)}`);
    const r = await this.d.runner.run(
      'prune',
      { modelPath, data, seed: 0, method, ...(variant ? { variant } : {}), fraction: share, out },
      `Pruning ${path.basename(modelPath)} (${method}, ${Math.round(share * 100)}%)`,
    );
    if (!r) return;
    const x = r.result;
    const fmt = (v: number) => (x.metric === 'accuracy' ? `${(v * 100).toFixed(1)}%` : v.toPrecision(4));
    const choice = await vscode.window.showInformationMessage(
      `PruneScope: pruned ${x.prunedTotal} of ${x.candidates} weights into ${vscode.workspace.asRelativePath(x.modelJson)}; test ${x.metric} ${fmt(x.testBefore)} -> ${fmt(x.testAfter)}.`,
      'Reveal',
      'Open model.json',
    );
    if (choice === 'Reveal') await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(x.modelJson));
    else if (choice === 'Open model.json') await vscode.window.showTextDocument(vscode.Uri.file(x.modelJson));
  }

  async exportStudent(
    modelPath: string,
    data: string,
    method: Method,
    sizing: { fraction: number } | { widths: number[] },
  ): Promise<void> {
    const tag =
      'fraction' in sizing ? `${method}-${shareLabel(sizing.fraction)}` : `${method}-${sizing.widths.join('x')}`;
    const out = this.newFolder(modelPath, 'student', tag);
    const r = await this.d.runner.run(
      'export-student',
      { modelPath, data, seed: 0, method, ...sizing, out },
      `Exporting a student of ${path.basename(modelPath)}`,
    );
    if (!r) return;
    const x = r.result;
    await vscode.window.showTextDocument(vscode.Uri.file(x.studentJson));
    void vscode.window.showInformationMessage(
      `PruneScope: student ${x.widthsBefore.join('-')} -> ${x.widthsAfter.join('-')}: ${x.paramsBefore} -> ${x.paramsAfter} parameters, in ${vscode.workspace.asRelativePath(x.out)}.`,
    );
  }

  async runAnalysis(modelPath: string, data: string): Promise<boolean> {
    if (!vscode.workspace.isTrusted || !(await this.available('analysis'))) return false;
    const s = settings();
    this.focus = { modelPath, data, analysed: false };
    this.d.panel.status(`Analysing ${path.basename(modelPath)} on ${path.basename(data)}...`, true);
    const r = await this.d.runner.run(
      'analysis',
      { modelPath, data, seed: 0, methods: [...METHODS], step: s.curveStep },
      `Analysing ${path.basename(modelPath)} (all methods)`,
    );
    if (!r) {
      this.d.panel.status('The analysis did not finish.', false);
      return false;
    }
    const x = r.result;
    this.focus = { modelPath, data, analysed: true };
    const base =
      x.summary.metric === 'accuracy'
        ? `accuracy ${(x.summary.baseline * 100).toFixed(1)}%`
        : `mse ${x.summary.baseline.toPrecision(4)}`;
    const analysis: PanelAnalysis = {
      title: path.basename(modelPath),
      subtitle: `${vscode.workspace.asRelativePath(modelPath)} on ${path.basename(data)}: ${base}`,
      data,
      methods: Object.keys(x.curves.methods),
      summary: x.summary,
      figures: x.figures,
    };
    this.d.panel.showAnalysis(analysis);
    return true;
  }

  panelActions(): PanelActions {
    return {
      figure: async (name) => {
        if (name !== 'demo') return;
        const out = await this.d.runner.run(
          'demo-figure',
          { seed: 1 + Math.floor(Math.random() * 1000), n: 12 },
          'Demo figure',
        );
        if (out) this.d.panel.showFigure('Demo: relevance scores', out.result.figure, 'seeded demo data (no model)');
      },
      whatif: async (
        m: Extract<FromWebview, { type: 'whatif' }>,
      ): Promise<Extract<ToWebview, { type: 'whatif' | 'error' }>> => {
        const f = this.focus;
        if (!f?.analysed)
          return {
            type: 'error',
            message: 'Analyse a model first (PruneScope: Analyze Model...).',
            inReplyTo: m.requestId,
          };
        try {
          const { result } = await this.d.client.run('whatif', {
            modelPath: f.modelPath,
            data: f.data,
            seed: 0,
            method: m.method,
            share: m.share,
          }).done;
          return { type: 'whatif', inReplyTo: m.requestId, ...result };
        } catch (e) {
          const msg = e instanceof EngineError ? `${e.code}: ${e.message}` : String(e);
          this.d.log.warn(`what-if failed: ${msg}`);
          return { type: 'error', message: `What-if failed: ${msg}`.slice(0, 500), inReplyTo: m.requestId };
        }
      },
      savePruned: async (method, share) => {
        const f = this.focus;
        if (!f || !(await this.requireJob('prune'))) return;
        // The ranking the slider measured (the analysis's defaults), so the file is what it showed.
        await this.prune(f.modelPath, f.data, method as Method, share);
      },
      exportStudent: async (method, share) => {
        const f = this.focus;
        if (!f || !(await this.requireJob('export-student'))) return;
        await this.exportStudent(f.modelPath, f.data, method as Method, { fraction: share });
      },
    };
  }

  register(): void {
    const { ctx, d } = this;
    const reg = (id: string, fn: (...args: any[]) => unknown) =>
      ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));

    reg('prunescope.analyzeModel', async (...args: unknown[]) => {
      const file = await pickModel(args, d.models);
      if (!file) return;
      const out = await d.runner.run('info', { modelPath: file }, `Reading ${path.basename(file)}`);
      if (!out) return;
      const { info, figure } = out.result;
      void vscode.window.showInformationMessage(
        `PruneScope: ${path.basename(file)} has ${info.layers.length} layers and ${info.totalParams} parameters.`,
      );
      this.focus = { modelPath: file, data: this.rememberedData(file) ?? '', analysed: false };
      d.panel.showFigure(path.basename(file), figure, `${info.layers.length} layers, ${info.totalParams} parameters`);
      const data = await this.pickData(file);
      if (!data) return;
      this.focus = { modelPath: file, data, analysed: false };
      await this.openAndRun(analysisNotebook(this.notebookOptions(file, data)));
      await d.panel.reveal();
      await this.runAnalysis(file, data);
    });

    reg('prunescope.pruneModel', async (...args: unknown[]) => {
      if (!(await this.requireJob('prune'))) return;
      const file = await pickModel(args, d.models);
      if (!file) return;
      const method = await this.pickMethod('Prune Model');
      if (!method) return;
      let variant: Variant | undefined;
      if (method === 'obd') {
        variant = await this.pickVariant();
        if (!variant) return;
      }
      const share = await this.pickShare('Prune Model');
      if (share === undefined) return;
      const data = await this.pickData(file);
      if (!data) return;
      await this.prune(file, data, method, share, variant);
    });

    reg('prunescope.exportStudent', async (...args: unknown[]) => {
      if (!(await this.requireJob('export-student'))) return;
      const file = await pickModel(args, d.models);
      if (!file) return;
      const method = await this.pickMethod('Export Student');
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
        const share = await this.pickShare('Export Student');
        if (share === undefined) return;
        sizing = { fraction: share };
      } else {
        const widths = await this.askWidths('Export Student');
        if (!widths) return;
        sizing = { widths };
      }
      const data = await this.pickData(file);
      if (!data) return;
      await this.exportStudent(file, data, method, sizing);
    });

    reg('prunescope.distill', async (...args: unknown[]) => {
      if (!(await this.requireJob('distill'))) return;
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
        const w = await this.askWidths('Distill');
        if (!w) return;
        student = { widths: w };
      }
      const opts = await this.askDistillSettings();
      if (!opts) return;
      const data = await this.pickData(teacher);
      if (!data) return;
      const tag = 'widths' in student ? student.widths.join('x') : path.basename(path.dirname(student.studentPath));
      const out = this.newFolder(teacher, 'distilled', tag);
      const s = settings();
      const r = await d.runner.run(
        'distill',
        { teacherPath: teacher, ...student, data, seed: 0, ...opts, seeds: s.seeds, out },
        `Distilling ${path.basename(teacher)} (T ${opts.temperature}, alpha ${opts.alpha}, ${opts.epochs} epochs)`,
      );
      if (!r) return;
      const rows = r.result.rows.map((x) => `${x.name} ${x.mean.toPrecision(3)} ± ${x.sd.toPrecision(2)}`).join('; ');
      const c = await vscode.window.showInformationMessage(
        `PruneScope: distilled (${r.result.metric} over ${s.seeds} seeds): ${rows}`,
        'Open distill.json',
        'Reveal',
      );
      if (c === 'Open distill.json')
        await vscode.window.showTextDocument(vscode.Uri.file(path.join(r.result.out, 'distill.json')));
      else if (c === 'Reveal')
        await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(r.result.report));
    });

    reg('prunescope.orderByGradientVariance', async (...args: unknown[]) => {
      if (!(await this.requireJob('gradient-variance'))) return;
      const file = await pickModel(args, d.models);
      if (!file) return;
      const est = await vscode.window.showQuickPick(
        [
          { label: 'essay', description: "the essay's running estimate (3.6), cheap", value: 'essay' as const },
          { label: 'per-sample', description: 'per-sample gradient moments, exact', value: 'per-sample' as const },
        ],
        { title: 'PruneScope: gradient-variance estimator' },
      );
      if (!est) return;
      const data = await this.pickData(file);
      if (!data) return;
      const r = await d.runner.run(
        'gradient-variance',
        gradientVarianceParams(file, data, est.value),
        `Ordering ${path.basename(file)} by gradient variance`,
      );
      if (!r) return;
      await d.panel.reveal();
      // The variances, then (block mode) one layer's covariance heatmap under them.
      const cov = r.result.figures.covariance;
      const title = `${path.basename(file)} on ${path.basename(data)} (${est.value})${cov ? '' : '; no layer small enough for a covariance block'}`;
      const figures = [r.result.figures.variances, ...(cov ? [cov] : [])];
      d.panel.showGradientVariance(title, figures);
      // Then the freeze timeline (its own cancellable job): the ordering put to use.
      if (!(await this.available('freeze-timeline'))) return;
      d.panel.status('Computing the freeze timeline...', true);
      const ft = await d.runner.run(
        'freeze-timeline',
        freezeTimelineParams(file, data, est.value),
        `Freeze timeline of ${path.basename(file)}`,
      );
      d.panel.status(ft ? '' : 'The freeze timeline did not finish.', false);
      if (ft) d.panel.showGradientVariance(title, figures, ft.result.figure);
    });

    reg('prunescope.showPanel', async () => {
      await d.panel.reveal();
      const f = this.focus;
      if (f && f.data && !f.analysed && (await this.available('analysis'))) {
        await this.runAnalysis(f.modelPath, f.data);
        return;
      }
      if (!d.panel.hasFigure) await this.panelActions().figure('demo');
    });

    reg('prunescope.newNotebook', async (...args: unknown[]) => {
      const a = modelArgFrom(args);
      if (a.kind === 'path') {
        const data = this.rememberedData(a.path) ?? (await this.pickData(a.path));
        if (!data) return;
        await this.openAndRun(analysisNotebook(this.notebookOptions(a.path, data)), false);
        return;
      }
      // A fresh folder for the model cell 0 trains: the workspace's, else the extension's storage.
      const ws = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file');
      const root = ws ? ws.uri.fsPath : this.ctx.globalStorageUri.fsPath;
      const model = path.join(
        outputFolder(path.join(root, 'prunescope.json'), 'wine', 'example', (p) => fs.existsSync(p)),
        'model.json',
      );
      await this.openAndRun(
        analysisNotebook({
          ...this.notebookOptions(model, 'wine'),
          trainFirst: { layers: [6, 3], epochs: 100, standardize: true },
        }),
      );
    });
  }

  /** Temperature, alpha, epochs: one input box each, the setting as its value (Enter accepts), Escape cancels. */
  private async askDistillSettings(): Promise<DistillSettings | undefined> {
    const c = vscode.workspace.getConfiguration('prunescope');
    const defaults = readDistillSettings((k) => c.get(k));
    const prompts: Record<keyof DistillSettings, string> = {
      temperature: 'Softmax temperature T for the soft targets (> 0; higher = softer)',
      alpha: 'Alpha: weight of the soft-target loss in [0, 1] (1 - alpha weighs the labels)',
      epochs: 'Training epochs of the student (a whole number >= 1)',
    };
    const out = { ...defaults };
    for (const [i, k] of (['temperature', 'alpha', 'epochs'] as const).entries()) {
      const text = await vscode.window.showInputBox({
        title: `PruneScope: Distill into Student (${i + 1}/3): ${k}`,
        prompt: `${prompts[k]}; default from prunescope.distill.${k}`,
        value: String(defaults[k]),
        ignoreFocusOut: true,
        validateInput: (t) => {
          const r = parseNumberInput(t, DISTILL_RULES[k]);
          return r.ok ? undefined : r.reason;
        },
      });
      if (text === undefined) return undefined;
      const r = parseNumberInput(text, DISTILL_RULES[k]);
      if (!r.ok) return undefined;
      out[k] = r.value;
    }
    return out;
  }

  private async askWidths(title: string): Promise<number[] | undefined> {
    const text = await vscode.window.showInputBox({
      title: `PruneScope: ${title}: hidden widths`,
      prompt: 'One width per hidden Dense layer, comma separated (the output layer keeps its width)',
      value: '4',
      validateInput: (t) => {
        const r = parseWidths(t);
        return r.ok ? undefined : r.reason;
      },
    });
    if (text === undefined) return undefined;
    const r = parseWidths(text);
    return r.ok ? r.value : undefined;
  }

  /** The standard notebook's options; its writing cells get free NEW folders beside the model. */
  notebookOptions(modelPath: string, data: string) {
    const s = settings();
    const share = 0.5;
    const tag = `${s.defaultMethod}-${shareLabel(share)}`;
    return {
      modelPath,
      data,
      settings: s,
      share,
      pruneOut: this.newFolder(modelPath, 'pruned', tag),
      studentOut: this.newFolder(modelPath, 'student', tag),
    };
  }

  private async openAndRun(data: vscode.NotebookData, run = true): Promise<void> {
    const doc = await vscode.workspace.openNotebookDocument('prunescope-notebook', data);
    await vscode.window.showNotebookDocument(doc);
    if (!run) return;
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showInformationMessage('PruneScope: the notebook runs its cells only in a trusted workspace.');
      return;
    }
    await vscode.commands.executeCommand('notebook.execute', doc.uri);
  }
}

export function registerCommands(ctx: vscode.ExtensionContext, d: CommandDeps): Commands {
  const c = new Commands(ctx, d);
  c.register();
  const reg = (id: string, fn: (...args: any[]) => unknown) =>
    ctx.subscriptions.push(vscode.commands.registerCommand(id, fn));
  reg('prunescope.selfTest', async () => {
    const out = await d.runner.run('long-demo', { steps: 60, stepMs: 500 }, 'Engine self-test');
    if (out)
      void vscode.window.showInformationMessage(
        `PruneScope: engine self-test completed ${out.result.completed} steps.`,
      );
  });
  reg('prunescope.cancelJob', () => {
    const n = d.runner.cancelAll();
    if (n === 0) void vscode.window.showInformationMessage('PruneScope: no job is running.');
  });
  reg('prunescope.restartEngine', async () => {
    d.client.restart('engine restarted by the user');
    const jobs = await d.client.jobs();
    d.log.info(`engine restarted (pid ${d.client.pid}); jobs: ${jobs.join(', ')}`);
    void vscode.window.showInformationMessage(`PruneScope: engine restarted (pid ${d.client.pid}).`);
  });
  reg('prunescope.showLog', () => d.log.show());
  // The panel follows the model in the active editor when its data is known.
  ctx.subscriptions.push(
    vscode.window.onDidChangeActiveTextEditor(async (ed) => {
      const doc = ed?.document;
      if (!doc || doc.uri.scheme !== 'file' || !d.models.list().includes(doc.uri.fsPath)) return;
      const data = c.rememberedData(doc.uri.fsPath);
      if (!data || c.focus?.modelPath === doc.uri.fsPath) return;
      c.focus = { modelPath: doc.uri.fsPath, data, analysed: false };
      if (d.panel.visible) await c.runAnalysis(doc.uri.fsPath, data);
    }),
  );
  return c;
}

export type { JobKind };
