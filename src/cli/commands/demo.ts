// `prunescope demo --out out`: the main job (see engine/experiments/demo.ts), as `npm run demo` runs it.
import * as path from 'path';
import { Command } from '../command';
import { ParsedArgs, bool, num, str } from '../args';
import { initBackend } from '../../engine/backend';
import { runDemo } from '../../engine/experiments/demo';
import { runConvDemo } from '../../engine/experiments/convDemo';
import { convDemoStudent } from '../../engine/experiments/convStudent';
import {
  RELEVANCE_METHODS,
  SELECTION_DEFAULTS,
  VALIDATION_FRACTION_RANGE,
  describeRange,
  inRange,
} from '../../engine/options';
import { badInput } from '../../engine/errors';
import { methodList } from '../relevanceOptions';

export const demoCommand: Command = {
  name: 'demo',
  summary:
    'The main job: the full analysis on Wine (curves, ordering, student, distillation) into one report; --conv: LeNet-5 on MNIST',
  usage: 'prunescope demo [--out out] [--conv] [--quick] [--methods ...] [--validation-fraction 0.2] [--json]',
  flags: [
    {
      name: 'conv',
      value: false,
      help: 'the convolutional demo instead: LeNet-5 trained on the MNIST subset, same analysis, into OUT/demo-conv',
    },
    { name: 'out', value: true, help: 'parent folder; results go to OUT/demo (replaced on each run)' },
    { name: 'quick', value: false, help: 'smaller budgets (a coarse grid, fewer epochs): for a fast look' },
    { name: 'methods', value: true, help: `default ${RELEVANCE_METHODS.join(',')}` },
    {
      name: 'validation-fraction',
      value: true,
      help: `share of the training part held out of the teacher's training to choose the student on (default ${SELECTION_DEFAULTS.validationFraction}); the test part only reports`,
    },
    { name: 'json', value: false, help: 'print a JSON summary' },
  ],
  async run(args: ParsedArgs, ctx) {
    const methods = methodList(args, 'methods', RELEVANCE_METHODS);
    const validationFraction = num(args, 'validation-fraction', SELECTION_DEFAULTS.validationFraction);
    if (!inRange(validationFraction, VALIDATION_FRACTION_RANGE))
      throw badInput(`--validation-fraction ${validationFraction}`, {
        field: '--validation-fraction',
        expected: describeRange(VALIDATION_FRACTION_RANGE),
      });
    const info = await initBackend();
    ctx.log(`backend: ${info.name} (${info.reason})`);
    const t0 = Date.now();
    const log = (m: string) => ctx.log(`[${((Date.now() - t0) / 1000).toFixed(0)} s] ${m}`);
    if (bool(args, 'conv')) {
      const c = await runConvDemo({
        out: path.join(str(args, 'out') ?? 'out', 'demo-conv'),
        methods,
        quick: bool(args, 'quick'),
        // The channel-pruned student, its share chosen on a validation part of the training rows.
        student: async (sc) => (await convDemoStudent(sc, { validationFraction })).section,
        signal: ctx.signal,
        log,
      });
      const seconds = (Date.now() - t0) / 1000;
      if (bool(args, 'json')) {
        ctx.out(
          JSON.stringify({ report: c.report, teacher: c.teacher, keeps: c.keeps, seconds: c.seconds, total: seconds }),
        );
        return;
      }
      ctx.out(
        [
          `report:  ${c.report}`,
          `teacher: ${c.teacher.modelJson} (test accuracy ${c.teacher.test.toFixed(4)})`,
          `within 1 point of the teacher: ${Object.entries(c.keeps)
            .map(([m, s]) => `${m} ${(100 * s).toFixed(0)} %`)
            .join(', ')}`,
          `done in ${seconds.toFixed(0)} s`,
        ].join('\n'),
      );
      return;
    }
    const r = await runDemo({
      out: path.join(str(args, 'out') ?? 'out', 'demo'),
      methods,
      quick: bool(args, 'quick'),
      validationFraction,
      signal: ctx.signal,
      log,
    });
    const summary = {
      report: r.report,
      student: r.student.files.modelJson,
      best: r.best,
      params: [r.student.paramsBefore, r.student.paramsAfter],
      distill: r.distill.rows.map((x) => ({ name: x.name, mean: x.metricMean, sd: x.metricSd })),
      seconds: (Date.now() - t0) / 1000,
    };
    if (bool(args, 'json')) {
      ctx.out(JSON.stringify(summary));
      return;
    }
    ctx.out(
      [
        `report:  ${r.report}`,
        `teacher: ${path.join(r.out, 'teacher', 'model.json')}`,
        `student: ${r.student.files.modelJson} (${r.best.method} at ${(100 * r.best.share).toFixed(0)} %: ${r.student.paramsBefore} -> ${r.student.paramsAfter} parameters)`,
        `distillation: ${summary.distill.map((d) => `${d.name} ${d.mean.toFixed(3)}±${d.sd.toFixed(3)}`).join(', ')}`,
        `done in ${summary.seconds.toFixed(0)} s`,
      ].join('\n'),
    );
  },
};
