// nbformat 4 round trip: what Jupyter writes reads back to the same cells and outputs, and what
// we write is nbformat 4 that reads back identically.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { parseIpynb, serializeIpynb, NotebookFormatError, ERROR_MIME } from '../../src/extension/notebook/ipynb';

const jupyter = {
  nbformat: 4,
  nbformat_minor: 5,
  metadata: {
    kernelspec: { name: 'prunescope', display_name: 'PruneScope (JavaScript)', language: 'javascript' },
    custom: { keep: true },
  },
  cells: [
    { cell_type: 'markdown', id: 'm1', metadata: {}, source: ['# Title\n', 'text'] },
    {
      cell_type: 'code',
      id: 'c1',
      metadata: { tags: ['x'] },
      execution_count: 3,
      source: 'plot(fig)\n',
      outputs: [
        {
          output_type: 'display_data',
          metadata: {},
          data: {
            'application/vnd.plotly.v1+json': { data: [{ type: 'bar', y: [1, 2] }] },
            'text/plain': ['<Figure>'],
          },
        },
        { output_type: 'stream', name: 'stdout', text: ['a\n', 'b\n'] },
        { output_type: 'error', ename: 'TypeError', evalue: 'x is undefined', traceback: ['at 1', 'at 2'] },
      ],
    },
  ],
};

test('reads Jupyter nbformat 4 into cells and mime outputs', () => {
  const nb = parseIpynb(JSON.stringify(jupyter));
  assert.equal(nb.cells.length, 2);
  assert.deepEqual(nb.cells[0], {
    kind: 'markdown',
    source: '# Title\ntext',
    outputs: [],
    executionCount: undefined,
    id: 'm1',
    metadata: {},
  });
  const c = nb.cells[1];
  assert.equal(c.source, 'plot(fig)\n');
  assert.equal(c.executionCount, 3);
  assert.deepEqual(c.outputs[0].items, [
    { mime: 'application/vnd.plotly.v1+json', data: { data: [{ type: 'bar', y: [1, 2] }] } },
    { mime: 'text/plain', data: '<Figure>' },
  ]);
  assert.deepEqual(c.outputs[1].items, [{ mime: 'application/vnd.code.notebook.stdout', data: 'a\nb\n' }]);
  assert.deepEqual(c.outputs[2].items, [
    { mime: ERROR_MIME, data: { name: 'TypeError', message: 'x is undefined', stack: 'at 1\nat 2' } },
  ]);
});

test('writes nbformat 4 that reads back to the same notebook, and Jupyter shapes on disk', () => {
  const nb = parseIpynb(JSON.stringify(jupyter));
  const text = serializeIpynb(nb);
  const disk = JSON.parse(text);
  assert.equal(disk.nbformat, 4);
  assert.equal(disk.metadata.kernelspec.name, 'prunescope');
  assert.deepEqual(disk.metadata.custom, { keep: true });
  assert.deepEqual(disk.cells[1].outputs, jupyter.cells[1].outputs);
  assert.deepEqual(disk.cells[0].source, ['# Title\n', 'text']);
  const back = parseIpynb(text);
  assert.deepEqual(back.cells, nb.cells);
  assert.deepEqual(back.metadata, { ...nb.metadata, language_info: { name: 'javascript' } });
  assert.equal(serializeIpynb(back), text, 'writing is a fixed point');
});

test('empty file is an empty notebook; other JSON is refused with what was expected', () => {
  assert.deepEqual(parseIpynb(''), { cells: [], metadata: {} });
  assert.throws(
    () => parseIpynb('{"nbformat":3,"worksheets":[]}'),
    (e: Error) => e instanceof NotebookFormatError && /nbformat 4/.test(e.message),
  );
  assert.throws(() => parseIpynb('{'), NotebookFormatError);
});
