// readCsv / parseCsv: parsing edge cases against hand-written expectations, and every refusal
// naming the file, the row (header = row 1) and the column.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseCsv, readCsv } from '../../src/engine/data/readCsv';
import { PruneScopeError } from '../../src/engine/errors';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'prunescope-csv-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
let counter = 0;
function write(content: string | Buffer): string {
  const file = path.join(dir, `t${counter++}.csv`);
  fs.writeFileSync(file, content);
  return file;
}

/** Asserts a PruneScopeError whose message contains every fragment. */
function refuses(fn: () => unknown, code: string, ...fragments: string[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PruneScopeError, `expected PruneScopeError, got ${e}`);
    assert.equal(e.code, code, e.message);
    for (const f of fragments) assert.ok(e.message.includes(f), `"${e.message}" lacks "${f}"`);
    return true;
  });
}

test('header, numeric features, last column as target by default, integer classes', () => {
  const file = write('a,b,label\n1,2,7\n3.5,-4e-1,3\n5,6,7\n');
  const d = readCsv(file);
  assert.equal(d.name, file);
  assert.deepEqual(d.featureNames, ['a', 'b']);
  assert.equal(d.targetName, 'label');
  assert.equal(d.rows, 3);
  assert.equal(d.features, 2);
  assert.deepEqual([...d.x], [1, 2, 3.5, Math.fround(-0.4), 5, 6]);
  // Integer labels 3 and 7 become indices 0 and 1 in numeric order, names kept as text.
  assert.equal(d.task, 'classification');
  assert.deepEqual(d.labelNames, ['3', '7']);
  assert.deepEqual([...d.y], [1, 0, 1]);
  assert.ok(d.provenance?.includes(path.resolve(file)));
});

test('integer labels sort numerically, not as text (10 after 9)', () => {
  const d = parseCsv('f,y\n0,10\n1,9\n2,10\n3,2\n', 'mem.csv');
  assert.deepEqual(d.labelNames, ['2', '9', '10']);
  assert.deepEqual([...d.y], [2, 1, 2, 0]);
});

test('string labels map to indices in sorted order; target chosen by name from the middle', () => {
  const d = parseCsv('x1,species,x2\n1,virginica,2\n3,setosa,4\n5,versicolor,6\n7,setosa,8\n', 'mem.csv', {
    target: 'species',
  });
  assert.equal(d.task, 'classification');
  assert.deepEqual(d.featureNames, ['x1', 'x2']);
  assert.deepEqual(d.labelNames, ['setosa', 'versicolor', 'virginica']);
  assert.deepEqual([...d.y], [2, 0, 1, 0]);
  assert.deepEqual([...d.x], [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('task inference: non-integer or more than 50 distinct integers is regression; a given task wins', () => {
  assert.equal(parseCsv('f,y\n1,0.5\n2,1.5\n', 'm.csv').task, 'regression');
  const many = ['f,y', ...Array.from({ length: 51 }, (_, i) => `${i},${i}`)].join('\n');
  assert.equal(parseCsv(many, 'm.csv').task, 'regression');
  const fifty = ['f,y', ...Array.from({ length: 50 }, (_, i) => `${i},${i}`)].join('\n');
  assert.equal(parseCsv(fifty, 'm.csv').task, 'classification');
  const forced = parseCsv('f,y\n1,3\n2,5\n', 'm.csv', { task: 'regression' });
  assert.equal(forced.task, 'regression');
  assert.deepEqual([...forced.y], [3, 5]);
  assert.equal(forced.labelNames, undefined);
});

test('quoted fields (delimiters, escaped quotes, newlines), CRLF and a UTF-8 BOM', () => {
  const text = '\ufeff"first, col","say ""hi""",target\r\n"1.5",2,"a, b"\r\n3,"4",c\r\n';
  const file = write(Buffer.from(text, 'utf8'));
  const d = readCsv(file);
  // The BOM must not become part of the first column name.
  assert.deepEqual(d.featureNames, ['first, col', 'say "hi"']);
  assert.deepEqual(d.labelNames, ['a, b', 'c']);
  assert.deepEqual([...d.x], [1.5, 2, 3, 4]);
  const multiline = parseCsv('a,note\n1,"two\nlines"\n2,x\n', 'm.csv', { task: 'classification' });
  assert.deepEqual(multiline.labelNames, ['two\nlines', 'x']);
});

test('blank lines are skipped but row numbers stay those of the file', () => {
  refuses(
    () => parseCsv('a,y\n1,0\n\n2,1\nzz,1\n', 'blank.csv'),
    'bad-input',
    'blank.csv',
    'row 5',
    'column 1 "a"',
    '"zz"',
  );
});

test('non-numeric feature value names the file, row and column', () => {
  const file = write('alpha,beta,y\n1,2,0\n3,abc,1\n');
  refuses(() => readCsv(file), 'bad-input', file, 'row 3', 'column 2 "beta"', '"abc" is not a number');
});

test('NaN, Infinity and empty cells are refused with their row and column', () => {
  refuses(() => parseCsv('a,b,y\n1,2,0\n3,NaN,1\n', 'n.csv'), 'bad-input', 'n.csv', 'row 3', 'column 2 "b"', 'NaN');
  refuses(() => parseCsv('a,b,y\n1,-inf,0\n3,4,1\n', 'n.csv'), 'bad-input', 'row 2', 'column 2 "b"');
  refuses(() => parseCsv('a,b,y\n1,2,0\n3,4,1\n5,,0\n', 'n.csv'), 'bad-input', 'row 4', 'column 2 "b"', 'empty');
  refuses(() => parseCsv('a,b,y\n1,2,0\n3,4,nan\n', 'n.csv'), 'bad-input', 'row 3', 'column 3 "y"', 'NaN');
  // JavaScript's Number() would accept these; a data file should not.
  refuses(() => parseCsv('a,y\n0x10,0\n1,1\n', 'n.csv'), 'bad-input', 'row 2', 'column 1 "a"');
});

test('ragged rows: too few and too many fields', () => {
  refuses(
    () => parseCsv('a,b,y\n1,2,0\n3,4\n', 'r.csv'),
    'bad-input',
    'r.csv',
    'row 3',
    'column 3',
    '2 fields',
    'expected 3 fields',
  );
  refuses(() => parseCsv('a,b,y\n1,2,0,9\n3,4,1\n', 'r.csv'), 'bad-input', 'row 2', 'column 4', '4 fields');
});

test('empty file, header only, a single data row', () => {
  const empty = write('');
  refuses(() => readCsv(empty), 'bad-input', empty, 'empty');
  refuses(() => parseCsv('\ufeff\r\n\r\n', 'e.csv'), 'bad-input', 'e.csv', 'empty');
  refuses(() => parseCsv('a,b,y\n', 'h.csv'), 'bad-input', 'h.csv', 'row 1', 'no data rows');
  refuses(() => parseCsv('a,b,y\n1,2,3\n', 'one.csv'), 'bad-input', 'one.csv', 'row 2', 'only one data row');
});

test('missing target column lists the columns that exist', () => {
  refuses(
    () => parseCsv('a,b,y\n1,2,0\n3,4,1\n', 'm.csv', { target: 'label' }),
    'not-found',
    'm.csv',
    'row 1',
    '"label"',
    '"a", "b", "y"',
  );
});

test('header problems: duplicate names, a single column, unterminated quote', () => {
  refuses(() => parseCsv('a,a,y\n1,2,0\n3,4,1\n', 'd.csv'), 'bad-input', 'row 1', 'column 2', 'duplicate');
  refuses(() => parseCsv('y\n1\n2\n', 's.csv'), 'bad-input', 'row 1', 'at least 2');
  refuses(() => parseCsv('a,y\n1,0\n"2,1\n', 'q.csv'), 'bad-input', 'row 3', 'column 1', 'unterminated');
});

test('a regression target must be numeric; a single class is refused', () => {
  refuses(
    () => parseCsv('a,y\n1,2.5\n2,high\n', 'g.csv', { task: 'regression' }),
    'bad-input',
    'row 3',
    'column 2 "y"',
    '"high"',
  );
  refuses(() => parseCsv('a,y\n1,1\n2,1\n', 'c.csv'), 'bad-input', 'c.csv', 'single class');
});

test('size budget: refused before reading, with the numbers', () => {
  const file = write('a,y\n1,0\n2,1\n');
  const size = fs.statSync(file).size;
  refuses(() => readCsv(file, { maxBytes: size - 1 }), 'too-large', file, `${size} bytes`, `${size - 1}`);
  assert.equal(readCsv(file, { maxBytes: size }).rows, 2);
  refuses(() => readCsv(path.join(dir, 'missing.csv')), 'not-found', 'missing.csv');
});
