// Training: minibatch Adam with prune/freeze masks, the training loop, and evaluation metrics.
export { Trainer, disposeGradients } from './trainer';
export type { AdamOptions, StepGradients } from './trainer';
export { train } from './train';
export type { TrainOptions, TrainResult, EpochMetrics, StepContext } from './train';
export { evaluate, checkHead } from './metrics';
export type { Metrics } from './metrics';
