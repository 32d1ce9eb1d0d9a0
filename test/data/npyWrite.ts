// A minimal .npy/.npz writer for tests that need arrays larger than the committed fixtures
// (written the way numpy.save lays them out: version 1.0, a dict header padded to 64 bytes).
import { zipSync } from 'fflate';

export function npyBytes(data: Uint8Array | Float32Array | Int32Array, shape: number[], descr: string): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(Buffer.from(header, 'latin1'), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}

/** An .npz of the given arrays, stored (level 0, as numpy.savez) or deflated (as savez_compressed). */
export function npzBytes(arrays: Record<string, Uint8Array>, compressed = false): Uint8Array {
  return zipSync(
    Object.fromEntries(Object.entries(arrays).map(([k, v]) => [`${k}.npy`, [v, { level: compressed ? 6 : 0 }]])),
  );
}
