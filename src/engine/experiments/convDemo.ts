// The convolutional demo (`prunescope demo --conv`): LeNet-5 (ReLU) trained on the MNIST subset,
// saved and read back as any user's model file, then analysed by the steps the Wine demo takes:
// relevance by the four methods, quality-against-share curves, per-layer relevance figures that
// fit the kernels' shapes, the gradient-variance order. A channel-pruned student (the
// "structured" work) plugs in at the end through `DemoConvOptions.student`.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';
import { loadModel, type LoadedModel } from '../formats/modelFile';
import type { DataSplit, SplitPart } from '../data/dataset';
import { makeProvenance, type Provenance } from '../provenance';
import { renderReport, type ReportSection } from '../report/html';
import { relevanceHeatmap } from '../report/relevanceFigures';
import { curvesFigure } from '../prune/curvesFigure';
import { orderedVarianceFigure } from '../ordering/figures';
import { orderParameters } from '../ordering/orderModel';
import { qualityCurves, shareGrid, type CurvesResult, type Ranker } from '../prune/curves';
import { computeRelevance, type RelevanceRequest } from '../relevance/compute';
import type { RelevanceResult } from '../relevance/types';
import { trainNewModel } from '../train/newModel';
import { largestShareWithin, otherVariationalCurve } from './paper1';
import { DEFAULT_VARIATIONAL_WEIGHTS } from '../prune/variationalWeights';
import { RELEVANCE_METHODS, type RelevanceMethod } from '../options';
import { throwIfCancelled } from '../errors';

/** What a student step gets: the analysed teacher, its data, every method's ranking, the curves. */
export interface ConvDemoContext {
  teacher: LoadedModel;
  split: DataSplit;
  rankings: Record<string, RelevanceResult>;
  curves: CurvesResult;
  /** The demo's staging folder: write the student into a new subfolder of it. */
  folder: string;
  seed: number;
  signal?: AbortSignal;
  log: (m: string) => void;
}

export interface DemoConvOptions {
  out: string;
  methods?: RelevanceMethod[];
  /** Smaller budgets (rows, epochs, grid) for a fast look and for tests. */
  quick?: boolean;
  /** MNIST rows used (train + test); default 10,000 (quick: 1,500). */
  rows?: number;
  epochs?: number;
  /**
   * The teacher trains on every training row; relevance is computed on this many of them and the
   * curves on this many test rows (default 2,000 and 1,000): the curvature and the variational fit
   * of LeNet-5 take minutes on the whole subset.
   */
  analysisRows?: { train: number; test: number };
  seed?: number;
  /**
   * The channel-pruned student (structured pruning): called last, it returns the report's section
   * (and writes its files under ctx.folder). Absent: the report says where it goes.
   */
  student?: (ctx: ConvDemoContext) => Promise<ReportSection | undefined>;
  signal?: AbortSignal;
  log?: (m: string) => void;
}

export interface DemoConvResult {
  out: string;
  report: string;
  teacher: { modelJson: string; test: number; analysedTestRows: number; train: number; samplesPerSecond: number };
  curves: CurvesResult;
  /** Per method: the largest share removed with test accuracy within 1 point of the teacher. */
  keeps: Record<string, number>;
  seconds: Record<string, number>;
  provenance: Provenance;
}

export async function runConvDemo(o: DemoConvOptions): Promise<DemoConvResult> {
  const log = o.log ?? (() => undefined);
  const methods = o.methods ?? [...RELEVANCE_METHODS];
  const seed = o.seed ?? 0;
  const rows = o.rows ?? (o.quick ? 1500 : 10_000);
  const epochs = o.epochs ?? (o.quick ? 1 : 3);
  const seconds: Record<string, number> = {};
  const timed = async <T>(what: string, f: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const r = await f();
    seconds[what] = (Date.now() - t0) / 1000;
    return r;
  };
  // Staged next to `out` and swapped in at the end, as the Wine demo does.
  const out = path.resolve(o.out);
  fs.mkdirSync(path.dirname(out), { recursive: true });
  const stage = path.join(path.dirname(out), `.${path.basename(out)}.${randomBytes(4).toString('hex')}.tmp`);
  fs.mkdirSync(stage);
  let teacher: LoadedModel | undefined;
  try {
    log(`LeNet-5 (relu) on ${rows} MNIST rows, ${epochs} epoch(s) of Adam`);
    const trained = await timed('train', () =>
      trainNewModel({
        data: 'mnist',
        dataOptions: { maxRows: rows },
        arch: 'lenet5',
        activation: 'relu',
        epochs,
        batchSize: 64,
        lr: 2e-3,
        seed,
        out: path.join(stage, 'teacher'),
        signal: o.signal,
        onEpoch: (m) => log(`epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(3)}`),
      }),
    );
    // Analysed as any user's file: read back through the model-file readers.
    teacher = await loadModel(trained.modelJson);
    const net = teacher.network;
    const split = subsample(trained.split, o.analysisRows ?? { train: 2000, test: 1000 });
    log(`teacher: test accuracy ${trained.result.final.test.accuracy?.toFixed(4)}; ${net.nParams} parameters`);

    const rankings: Record<string, RelevanceResult> = {};
    const request = (method: RelevanceMethod): RelevanceRequest => ({
      method,
      variant: 'hessian',
      // The variational fit's own budget takes minutes on LeNet-5: a few epochs show its ranking.
      ...(method === 'variational' ? { epochs: o.quick ? 1 : 4 } : {}),
      seed,
      signal: o.signal,
    });
    const rankers: Ranker[] = methods.map((m) => ({
      name: m,
      stochastic: m === 'random',
      rank: async (n, s) => {
        const key = m === 'random' ? `random:${s}` : m;
        if (rankings[key]) return rankings[key];
        const t0 = Date.now();
        const r = await computeRelevance(n, split, { ...request(m), seed: m === 'random' ? s : seed });
        seconds[`relevance ${m}`] = (seconds[`relevance ${m}`] ?? 0) + (Date.now() - t0) / 1000;
        log(`relevance ${m}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        rankings[key] = r;
        return r;
      },
    }));
    if (methods.includes('variational')) {
      // The variational ranking's other weights (as the Wine demo draws it): a short fit's mu is a
      // weaker model than the teacher, so the ranking is also shown pruning the teacher's weights.
      const w = DEFAULT_VARIATIONAL_WEIGHTS;
      rankers.push({
        name: otherVariationalCurve(w),
        variationalWeights: w === 'mu' ? 'teacher' : 'mu',
        rank: async (n, s) => rankers.find((r) => r.name === 'variational')!.rank(n, s),
      });
    }
    const shares = shareGrid(o.quick ? 0.1 : 0.05);
    log(`relevance by ${methods.join(', ')} and pruning on ${shares.length} shares`);
    const curves = await timed('curves', () =>
      qualityCurves(net, split, rankers, { shares, seeds: [seed, seed + 1], signal: o.signal }),
    );
    throwIfCancelled(o.signal, 'conv demo');
    const keeps = Object.fromEntries(
      Object.entries(curves.curves).map(([m, c]) => [
        m,
        largestShareWithin(
          { metric: 'accuracy', shares: curves.shares, baseline: { mean: curves.baseline, sd: 0 } },
          c,
          0.01,
        ),
      ]),
    );

    log('gradient-variance ordering of the teacher');
    const ordering = await timed('ordering', () =>
      orderParameters(net, split, { steps: o.quick ? 10 : 60, seed, signal: o.signal }),
    );

    const sections: ReportSection[] = [
      {
        heading: 'The teacher',
        text: [
          `LeNet-5 with ReLU (${net.nParams} parameters) trained on ${trained.split.train.rows} MNIST rows for ${epochs} epoch(s) in ${seconds.train.toFixed(0)} s (${trained.result.samplesPerSecond.toFixed(0)} samples/s, ${trained.backend}); test accuracy ${trained.result.final.test.accuracy?.toFixed(4)} on ${trained.split.test.rows} rows.`,
          `Relevance is computed on ${split.train.rows} of the training rows and the curves on ${split.test.rows} test rows.`,
          'The analysis reads the saved file back (teacher/model.json), as it would read any TF.js, Keras or ONNX model.',
        ],
      },
      {
        heading: 'Quality against the share of weights removed',
        text: [
          `Test accuracy, one ranking of the teacher per method (random: mean of 2 seeds); the variational curves prune the posterior mean mu of a ${o.quick ? 1 : 4}-epoch fit and, with the same ranking, the teacher's weights. Largest share with accuracy within 1 point of the teacher: ${Object.entries(
            keeps,
          )
            .map(([m, s]) => `${m} ${(100 * s).toFixed(0)} %`)
            .join(', ')}.`,
        ],
        figures: [curvesFigure(curves)],
      },
      {
        heading: 'Relevance of the convolution kernels, by method',
        text: [
          "Each cell sums a kernel's relevance over its 5x5 positions, per output and input channel; the spatial map is on hover and in the table.",
        ],
        figures: methods
          .filter((m) => m !== 'random' && rankings[m])
          .flatMap((m) => [0, 1].map((layer) => relevanceHeatmap(net, rankings[m].scores, layer, m))),
      },
      {
        heading: 'Gradient-variance order (essay section 3)',
        text: [
          `${ordering.estimator} estimator, ${ordering.mode} mode, ${ordering.steps} Adam steps from the teacher's weights.`,
        ],
        figures: [orderedVarianceFigure(Array.from(ordering.variances), Array.from(ordering.order))],
      },
    ];
    const studentSection = o.student
      ? await o.student({ teacher, split, rankings, curves, folder: stage, seed, signal: o.signal, log })
      : undefined;
    sections.push(
      studentSection ?? {
        heading: 'A channel-pruned student',
        text: ['Not part of this run: structured pruning (whole channels) plugs in here (DemoConvOptions.student).'],
      },
    );
    const provenance = makeProvenance({
      job: 'demo conv',
      method: methods.join(','),
      seed,
      data: { name: 'mnist', split: 'test', rows: split.test.rows, testFraction: split.testFraction },
      options: { rows, epochs, arch: 'lenet5', activation: 'relu', shares: shares.length, seconds },
    });
    fs.writeFileSync(
      path.join(stage, 'report.html'),
      renderReport({
        title: 'PruneScope demo: which parameters of LeNet-5 matter (MNIST)',
        intro: [
          'A convolutional network through the same analysis as the Wine demo: relevance by four methods, pruning curves, the gradient-variance order. Every number is recomputed on each run.',
        ],
        sections,
        provenance: { demo: provenance, curves: curves.provenance, ordering: ordering.provenance },
      }),
    );
    const summary = {
      teacher: {
        modelJson: path.join(out, 'teacher', 'model.json'),
        test: trained.result.final.test.accuracy ?? NaN,
        analysedTestRows: split.test.rows,
        train: trained.result.final.train.accuracy ?? NaN,
        samplesPerSecond: trained.result.samplesPerSecond,
      },
      keeps,
      seconds,
    };
    fs.writeFileSync(
      path.join(stage, 'curves.json'),
      JSON.stringify({
        metric: curves.metric,
        shares: curves.shares,
        curves: curves.curves,
        baseline: curves.baseline,
      }),
    );
    fs.writeFileSync(path.join(stage, 'summary.json'), JSON.stringify(summary, null, 2));
    net.dispose();
    teacher = undefined;
    const aside = `${stage}.old`;
    if (fs.existsSync(out)) fs.renameSync(out, aside);
    fs.renameSync(stage, out);
    fs.rmSync(aside, { recursive: true, force: true });
    return { out, report: path.join(out, 'report.html'), curves, provenance, ...summary };
  } catch (e) {
    teacher?.network.dispose();
    fs.rmSync(stage, { recursive: true, force: true });
    throw e;
  }
}

/** The first rows of each part (splitDataset shuffled them with the seed): a seeded subsample. */
function subsample(split: DataSplit, n: { train: number; test: number }): DataSplit {
  const part = (p: SplitPart, rows: number): SplitPart => {
    if (rows >= p.rows) return p;
    const f = p.x.length / p.rows;
    const k = p.y.length / p.rows;
    return {
      x: p.x.subarray(0, rows * f),
      y: p.y.subarray(0, rows * k),
      rows,
      ...(p.indices ? { indices: p.indices.subarray(0, rows) } : {}),
    };
  };
  return { ...split, train: part(split.train, n.train), test: part(split.test, n.test) };
}
