// PruneScope: Order Parameters by Gradient Variance...: the essay's section-3 order of the
// model's parameters (and a covariance block) in the side panel, then the freeze timeline (its own
// cancellable job): the ordering put to use.
import * as path from 'path';
import * as vscode from 'vscode';
import { freezeTimelineParams, gradientVarianceParams } from '../args';
import { available, requireJob, type Deps } from '../deps';
import { pickData, pickModel } from '../pickers';

export async function orderByGradientVariance(d: Deps, ...args: unknown[]): Promise<void> {
  if (!(await requireJob(d, 'gradient-variance'))) return;
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
  const data = await pickData(file, d.focus);
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
  if (!(await available(d, 'freeze-timeline'))) return;
  d.panel.status('Computing the freeze timeline...', true);
  const ft = await d.runner.run(
    'freeze-timeline',
    freezeTimelineParams(file, data, est.value),
    `Freeze timeline of ${path.basename(file)}`,
  );
  d.panel.status(ft ? '' : 'The freeze timeline did not finish.', false);
  if (ft) d.panel.showGradientVariance(title, figures, ft.result.figure);
}
