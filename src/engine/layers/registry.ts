// Keras class name -> layer module. Adding a layer type = one file in this folder + one line here.
import type { LayerClass } from '../model/graphSpec';
import type { LayerModule } from './layer';
import { DenseModule } from './dense';
import { ActivationModule, LeakyReLUModule, ReLUModule } from './activation';
import { FlattenModule, ReshapeModule } from './reshape';
import { IdentityModule } from './identity';
import { AddModule, ConcatenateModule } from './merge';
import { SoftmaxModule } from './softmax';

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
])
  registerLayer(m);

export function layerModule(className: string): LayerModule | undefined {
  return modules.get(className);
}

/** Class names with a module, for "what is supported" messages. */
export function supportedLayers(): LayerClass[] {
  return [...modules.keys()].sort() as LayerClass[];
}
