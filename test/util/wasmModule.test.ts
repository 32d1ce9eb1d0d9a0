// The embedded kernels instantiate (a silent fallback to the slow path would otherwise go unnoticed),
// and a broken module yields null so callers take their TypeScript / tfjs path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instantiateEmbedded, ensureMemory, WasmMemory } from '../../src/engine/util/wasmModule';
import { KERNELS_WASM_BASE64 } from '../../src/engine/linalg/wasm/kernels.generated';
import { SOFTPLUS_WASM_BASE64 } from '../../src/engine/relevance/wasm/softplus.generated';
import { SQUARES_WASM_BASE64 } from '../../src/engine/layers/wasm/squares.generated';

test('each embedded module instantiates with the exports its loader uses', () => {
  const lin = instantiateEmbedded<Record<string, unknown>>(KERNELS_WASM_BASE64);
  for (const f of ['gemm', 'tridiag', 'secularVectors']) assert.equal(typeof lin?.[f], 'function', f);
  const sp = instantiateEmbedded<Record<string, unknown>>(SOFTPLUS_WASM_BASE64);
  assert.equal(typeof sp?.softplus_sigmoid, 'function');
  // squares runs on an imported memory (the tfjs backend's); any memory will do to instantiate it.
  const memory = new (
    globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => object } }
  ).WebAssembly.Memory({ initial: 2 });
  const sq = instantiateEmbedded<Record<string, unknown>>(SQUARES_WASM_BASE64, { env: { memory } });
  for (const f of ['background', 'compress', 'squares', 'accumulate_sparse', 'accumulate_dense'])
    assert.equal(typeof sq?.[f], 'function', f);
});

test('a corrupt module or missing imports give null, not an exception', () => {
  assert.equal(instantiateEmbedded(Buffer.from('not wasm').toString('base64')), null);
  assert.equal(instantiateEmbedded(SQUARES_WASM_BASE64, {}), null);
});

test('ensureMemory grows to at least the bytes asked, in whole pages', () => {
  const sp = instantiateEmbedded<{ memory: WasmMemory }>(SOFTPLUS_WASM_BASE64)!;
  const before = sp.memory.buffer.byteLength;
  ensureMemory(sp.memory, before + 1);
  assert.equal(sp.memory.buffer.byteLength, before + 65536);
  ensureMemory(sp.memory, before);
  assert.equal(sp.memory.buffer.byteLength, before + 65536);
});
