// What Conv2D and DepthwiseConv2D share as layer modules: both are bilinear in (input, kernel) plus
// a bias, so every method of the contract is one of four calculus functions (conv2d.ts or
// depthwise.ts): the forward, the input VJP, the kernel gradient summed over a batch and the per-row
// products. Each weight touches many outputs, so per-row gradients sum over positions before they are
// squared, and a diagonal output term D contributes the kernel gradient of (x^2, D).
import * as tf from '@tensorflow/tfjs';
import type { LayerClass, Shape } from '../../graphSpec';
import type {
  ChannelRule,
  ForwardResult,
  Layer,
  Saved,
  VariationalOps,
  WeightDecl,
  WeightStats,
  WeightStatsRequest,
} from '../layer';
import { memo } from '../util';
import { lrtOps } from '../lrt';
import type { WindowSpec } from './conv2d';
import { KernelBias, kernelBiasList, RowStats, RowStatsRequest, sampleSum } from './rowStats';
import { outputSize } from './geometry';

export interface ConvCalculus {
  forward(x: tf.Tensor4D, kernel: tf.Tensor4D, bias: tf.Tensor1D | undefined, spec: WindowSpec): tf.Tensor4D;
  inputGrad(g: tf.Tensor4D, kernel: tf.Tensor4D, inShape: number[], spec: WindowSpec): tf.Tensor4D;
  kernelGrad(x: tf.Tensor4D, g: tf.Tensor4D, spec: WindowSpec, useBias: boolean): KernelBias;
  rowStats(x: tf.Tensor4D, g: tf.Tensor4D, spec: WindowSpec, useBias: boolean, want: RowStatsRequest): RowStats;
}

export abstract class ConvLayerBase implements Layer {
  abstract readonly className: LayerClass;
  abstract readonly channels: ChannelRule;
  readonly outputShape: Shape;
  readonly weights: WeightDecl[];
  readonly variational: VariationalOps;

  constructor(
    readonly name: string,
    readonly inputShapes: Shape[],
    readonly spec: WindowSpec,
    readonly useBias: boolean,
    kernel: WeightDecl,
    outChannels: number,
    private readonly calc: ConvCalculus,
  ) {
    this.outputShape = [...outputSize(inputShapes[0], spec), outChannels];
    this.weights = [kernel];
    if (useBias)
      this.weights.push({
        name: 'bias',
        shape: [outChannels],
        trainable: true,
        init: 'zeros',
        outputAxis: 0,
        inputAxis: null,
      });
    this.variational = lrtOps(
      {
        apply: (x, k) => calc.forward(x as tf.Tensor4D, k as tf.Tensor4D, undefined, spec),
        inputVJP: (g, k) => calc.inputGrad(g as tf.Tensor4D, k as tf.Tensor4D, inputShapes[0], spec),
        kernelVJP: (x, g) => calc.kernelGrad(x as tf.Tensor4D, g as tf.Tensor4D, spec, false).kernel,
      },
      useBias,
    );
  }

  forward(inputs: tf.Tensor[], w: tf.Tensor[]): ForwardResult {
    const bias = this.useBias ? (w[1] as tf.Tensor1D) : undefined;
    return { output: this.calc.forward(inputs[0] as tf.Tensor4D, w[0] as tf.Tensor4D, bias, this.spec), cache: {} };
  }

  inputGrads(g: tf.Tensor, _s: Saved, w: tf.Tensor[], _c: number, need: boolean[]): (tf.Tensor | undefined)[] {
    return [
      need[0] ? this.calc.inputGrad(g as tf.Tensor4D, w[0] as tf.Tensor4D, this.inputShapes[0], this.spec) : undefined,
    ];
  }

  weightStats(g: tf.Tensor, s: Saved, _w: tf.Tensor[], c: number, want: WeightStatsRequest): WeightStats {
    const x = s.inputs[0] as tf.Tensor4D;
    if (!want.squares) {
      if (!want.sum) return {};
      // The sum of per-row gradients is the gradient of the per-sample sums of the rows: one product.
      const d = sampleSum(g, c) as tf.Tensor4D;
      const kb = this.calc.kernelGrad(x, d, this.spec, this.useBias);
      if (d !== g) d.dispose();
      return { sum: kernelBiasList(kb) };
    }
    const st = this.calc.rowStats(x, g as tf.Tensor4D, this.spec, this.useBias, {
      sum: want.sum,
      squares: true,
      signs: want.signs,
    });
    return { sum: st.sum && kernelBiasList(st.sum), squares: kernelBiasList(st.squares!) };
  }

  weightRows(g: tf.Tensor, s: Saved): tf.Tensor2D {
    return this.calc.rowStats(s.inputs[0] as tf.Tensor4D, g as tf.Tensor4D, this.spec, this.useBias, { rows: true })
      .rows!;
  }

  weightDiagFromDiagonal(D: tf.Tensor, s: Saved): tf.Tensor[] {
    const x2 = memo(s.memo, 'x2', () => tf.square(s.inputs[0])) as tf.Tensor4D;
    return kernelBiasList(this.calc.kernelGrad(x2, D as tf.Tensor4D, this.spec, this.useBias));
  }

  /** sum_o J_oi^2 D_o: the input VJP of D through the squared kernel. */
  squaredJacobianT(D: tf.Tensor, s: Saved, w: tf.Tensor[]): tf.Tensor {
    const w2 = memo(s.memo, 'W2', () => tf.square(w[0])) as tf.Tensor4D;
    return this.calc.inputGrad(D as tf.Tensor4D, w2, this.inputShapes[0], this.spec);
  }
}
