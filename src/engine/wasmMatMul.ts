// tfjs-backend-wasm 4.22 runs BatchMatMul/_FusedMatMul through XNNPACK only when neither operand
// is transposed; a transposed operand falls into a scalar loop ~10x slower. Every dense backward
// pass needs A^T B or A B^T, so we re-register both kernels to materialise the transpose with the
// (fast) Transpose kernel first and then take the fast path.
import * as tf from '@tensorflow/tfjs';

let installed = false;

type KernelArgs = { inputs: Record<string, tf.TensorInfo>; backend: tf.KernelBackend; attrs: Record<string, unknown> };

export function installFastTransposedMatMul(): void {
  if (installed) return;
  const transpose = tf.getKernel('Transpose', 'wasm');
  if (!transpose) return;
  for (const name of ['BatchMatMul', '_FusedMatMul']) {
    const original = tf.getKernel(name, 'wasm');
    if (!original) continue;
    const wrapped = (args: KernelArgs): tf.TensorInfo => {
      const { inputs, backend, attrs } = args;
      const tA = attrs.transposeA as boolean;
      const tB = attrs.transposeB as boolean;
      if (!tA && !tB) return original.kernelFunc(args as never) as tf.TensorInfo;
      const temps: tf.TensorInfo[] = [];
      const materialise = (x: tf.TensorInfo): tf.TensorInfo => {
        const r = x.shape.length;
        const perm = [...Array(r).keys()];
        [perm[r - 2], perm[r - 1]] = [perm[r - 1], perm[r - 2]];
        const t = transpose.kernelFunc({ inputs: { x }, backend, attrs: { perm } } as never) as tf.TensorInfo;
        temps.push(t);
        return t;
      };
      const newInputs = { ...inputs };
      if (tA) newInputs.a = materialise(inputs.a);
      if (tB) newInputs.b = materialise(inputs.b);
      try {
        return original.kernelFunc({
          inputs: newInputs,
          backend,
          attrs: { ...attrs, transposeA: false, transposeB: false },
        } as never) as tf.TensorInfo;
      } finally {
        for (const t of temps) backend.disposeData(t.dataId);
      }
    };
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: wrapped as never });
  }
  installed = true;
}

export function fastTransposedMatMulInstalled(): boolean {
  return installed;
}
