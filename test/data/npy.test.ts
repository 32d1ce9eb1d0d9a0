// The .npy reader against files NumPy wrote (test/fixtures/data/make_fixtures.py): every numeric
// dtype in both byte orders, header versions 1-3, Fortran order, and the refusals (object,
// structured, unicode and complex dtypes, truncated and padded data, a bad header).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import { FileStream, MemoryStream } from '../../src/engine/util/byteStream';
import { forEachFortranRow, forEachNpyRow, readNpyHeader } from '../../src/engine/data/numpy/npy';
import { PruneScopeError } from '../../src/engine/errors';
import { npyFixture } from './fixturePaths';

/** The fixture's closed form: v[i, j, k] = (6 i + 2 j + k) % 7 on (5, 3, 2). */
const pattern = (i: number, j: number, k: number) => (6 * i + 2 * j + k) % 7;

function readAll(file: string, rows?: number[]): { shape: number[]; values: Map<number, number[]> } {
  const s = new FileStream(file, file);
  try {
    const h = readNpyHeader(s, fs.statSync(file).size);
    const values = new Map<number, number[]>();
    const want = rows ?? Array.from({ length: h.rows }, (_, i) => i);
    const each = (r: number, v: Float64Array) => values.set(r, Array.from(v));
    if (h.fortranOrder) forEachFortranRow(s, h, want, 1 << 20, each);
    else forEachNpyRow(s, h, want, each);
    return { shape: h.shape, values };
  } finally {
    s.close();
  }
}

function refusal(file: string): PruneScopeError {
  try {
    readAll(file);
  } catch (e) {
    assert.ok(e instanceof PruneScopeError, String(e));
    assert.ok(e.message.includes(file), e.message);
    return e;
  }
  assert.fail(`${file} was read`);
}

for (const name of [
  'le_f4',
  'be_f4',
  'le_f8',
  'be_f8',
  'le_f2',
  'be_f2',
  'na_u1',
  'na_i1',
  'le_i2',
  'be_i2',
  'le_u2',
  'be_u2',
  'le_i4',
  'be_i4',
  'le_u4',
  'le_i8',
  'be_i8',
  'le_u8',
  'na_b1',
]) {
  test(`npy: ${name} values equal the closed form NumPy wrote`, () => {
    const { shape, values } = readAll(npyFixture(`pattern_${name}.npy`));
    assert.deepEqual(shape, [5, 3, 2]);
    for (let i = 0; i < 5; i++) {
      const expected: number[] = [];
      for (let j = 0; j < 3; j++)
        for (let k = 0; k < 2; k++) expected.push(name === 'na_b1' ? Number(pattern(i, j, k) !== 0) : pattern(i, j, k));
      assert.deepEqual(values.get(i), expected, `row ${i}`);
    }
  });
}

test('npy: negative values of signed integers and big-endian float64', () => {
  for (const name of ['na_i1', 'be_i2', 'le_i4', 'be_i8', 'be_f8']) {
    const { values } = readAll(npyFixture(`signed_${name}.npy`));
    assert.deepEqual(
      values.get(4),
      [0, 1, 2, 3, 4, 5].map((_, q) => pattern(4, q >> 1, q & 1) - 3),
      name,
    );
  }
});

test('npy: header versions 2.0 and 3.0 read like 1.0', () => {
  for (const v of ['version2', 'version3']) {
    const { shape, values } = readAll(npyFixture(`${v}.npy`));
    assert.deepEqual(shape, [5, 3, 2]);
    assert.deepEqual(
      values.get(3),
      [0, 1, 2, 3, 4, 5].map((_, q) => pattern(3, q >> 1, q & 1)),
    );
  }
});

test('npy: only the asked rows are read, in order, skipping the rest', () => {
  const { values } = readAll(npyFixture('pattern_le_f8.npy'), [1, 4]);
  assert.deepEqual([...values.keys()], [1, 4]);
  assert.deepEqual(
    values.get(4),
    [0, 1, 2, 3, 4, 5].map((_, q) => pattern(4, q >> 1, q & 1)),
  );
});

test('npy: a Fortran-order array is served in C order', () => {
  const { shape, values } = readAll(npyFixture('fortran_f4.npy'));
  assert.deepEqual(shape, [4, 3, 2]);
  for (let i = 0; i < 4; i++)
    assert.deepEqual(
      values.get(i),
      [0, 1, 2, 3, 4, 5].map((_, q) => 100 * i + 10 * (q >> 1) + (q & 1)),
    );
});

test('npy: object arrays are refused before their pickle is touched', () => {
  const e = refusal(npyFixture('object.npy'));
  assert.equal(e.code, 'unsupported');
  assert.match(e.message, /object array .*pickled Python objects are never loaded/);
});

test('npy: structured, unicode and complex dtypes are refused, naming the dtype', () => {
  assert.match(refusal(npyFixture('structured.npy')).message, /structured dtype/);
  assert.match(refusal(npyFixture('unicode.npy')).message, /dtype '<U2'/);
  assert.match(refusal(npyFixture('complex.npy')).message, /dtype '<c8'/);
});

test('npy: truncated or padded data and a bad magic are refused with the sizes', () => {
  const bytes = fs.readFileSync(npyFixture('pattern_le_f4.npy'));
  const cut = (b: Uint8Array) => {
    try {
      readNpyHeader(new MemoryStream(b, 'x.npy'), b.length);
    } catch (e) {
      assert.ok(e instanceof PruneScopeError);
      return e.message;
    }
    assert.fail('accepted');
  };
  assert.match(
    cut(bytes.subarray(0, bytes.length - 4)),
    /truncated: 116 bytes after the header .*expected 120 bytes of data for shape \(5, 3, 2\) of <f4/,
  );
  assert.match(cut(Buffer.concat([bytes, Buffer.alloc(3)])), /3 unexpected bytes after the array data/);
  assert.match(cut(bytes.subarray(0, 20)), /ends after 10 of the 118 bytes of the header/);
  const bad = Buffer.from(bytes);
  bad[1] = 0x41;
  assert.match(cut(bad), /not a NumPy \.npy file/);
});

test('npy: malformed header dicts are refused with the position', () => {
  const header = (dict: string) => {
    const text = dict.padEnd(118, ' ') + '\n';
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, text.length & 0xff, text.length >> 8]);
    return Buffer.concat([pre, Buffer.from(text, 'latin1')]);
  };
  const msg = (dict: string) => {
    try {
      readNpyHeader(new MemoryStream(header(dict), 'h.npy'));
    } catch (e) {
      assert.ok(e instanceof PruneScopeError);
      return e.message;
    }
    return 'accepted';
  };
  assert.equal(msg("{'descr': '<f4', 'fortran_order': False, 'shape': (3L, 2), }"), 'accepted');
  assert.match(msg("{'descr': '<f4', 'fortran_order': False, 'shape': (-3,), }"), /not a non-negative integer/);
  assert.match(msg("{'descr': '<f4', 'fortran_order': 0, 'shape': (3,), }"), /fortran_order is not True or False/);
  assert.match(msg("{'descr': '<f4', 'shape': (3,), }"), /missing key 'fortran_order'/);
  assert.match(msg("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}"), /unexpected key 'x'/);
  assert.match(msg("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3,)}"), /appears twice/);
  assert.match(msg("{'descr': '<f4', 'fortran_order': False, 'shape': (3,)} x"), /text after the dict/);
  assert.match(
    msg("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999, 99999999999)}"),
    /more elements than can be addressed/,
  );
});
