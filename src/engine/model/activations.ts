// The element-wise activations moved to layers/activationFunctions.ts (the layer modules own them).
export * from '../layers/activationFunctions';
