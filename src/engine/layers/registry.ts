// Keras class name -> layer module. Adding a layer type = one file in this folder + one line here.
import type { LayerClass } from '../graphSpec';
import type { LayerModule } from './layer';
import { DenseModule } from './dense';
import { ActivationModule, LeakyReLUModule, ReLUModule } from './activation';
import { FlattenModule, ReshapeModule } from './reshape';
import { IdentityModule } from './identity';
import { AddModule, ConcatenateModule } from './merge';
import { SoftmaxModule } from './softmax';
import { Conv2DModule } from './conv2d';
import { DepthwiseConv2DModule } from './depthwiseConv2d';
import { BatchNormalizationModule } from './batchNormalization';
import { AveragePooling2DModule, MaxPooling2DModule } from './pooling2d';
import { GlobalAveragePooling2DModule, GlobalMaxPooling2DModule } from './globalPooling2d';
import { ZeroPadding2DModule } from './zeroPadding2d';
import { RescalingModule } from './rescaling';
import { NormalizationModule } from './normalization';

const modules = new Map<string, LayerModule>();

export function registerLayer(m: LayerModule): void {
  modules.set(m.className, m);
}

for (const m of [
  DenseModule,
  ActivationModule,
  ReLUModule,
  LeakyReLUModule,
  FlattenModule,
  ReshapeModule,
  IdentityModule,
  AddModule,
  ConcatenateModule,
  SoftmaxModule,
  Conv2DModule,
  DepthwiseConv2DModule,
  BatchNormalizationModule,
  MaxPooling2DModule,
  AveragePooling2DModule,
  GlobalAveragePooling2DModule,
  GlobalMaxPooling2DModule,
  ZeroPadding2DModule,
  RescalingModule,
  NormalizationModule,
])
  registerLayer(m);

export function layerModule(className: string): LayerModule | undefined {
  return modules.get(className);
}

/** Class names with a module, for "what is supported" messages. */
export function supportedLayers(): LayerClass[] {
  return [...modules.keys()].sort() as LayerClass[];
}
