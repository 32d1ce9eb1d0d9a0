import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plotlySource, renderReport, escapeHtml } from '../../src/engine/report/html';

test('reports inline plotly found by a path walk (no require.resolve, which a bundle turns into a module id)', () => {
  const src = plotlySource();
  assert.ok(src.length > 1_000_000, `plotly source is ${src.length} bytes`);
  assert.match(src.slice(0, 2000), /plotly/i);
  const html = renderReport({
    title: 'T <x>',
    sections: [
      {
        heading: 'H',
        text: ['a & b'],
        figures: [
          {
            id: 'f',
            title: 'F',
            data: [{ type: 'bar', x: [1], y: [2] }],
            layout: {},
            table: { columns: ['c'], rows: [[1.5]] },
          },
        ],
      },
    ],
  });
  assert.ok(html.includes('<title>T &lt;x&gt;</title>'));
  assert.ok(html.includes('<p>a &amp; b</p>'));
  assert.ok(html.includes('Plotly.newPlot('));
  assert.ok(html.includes(src.slice(0, 200)));
  assert.equal(escapeHtml('"<\'&>'), '&quot;&lt;&#39;&amp;&gt;');
});

test("figure data cannot break out of the report's script element", () => {
  const html = renderReport({
    title: 't',
    sections: [
      { heading: 'h', figures: [{ id: 'f', title: '</script><script>alert(1)</script>', data: [], layout: {} }] },
    ],
  });
  const tail = html.slice(html.lastIndexOf('const FIGS='));
  assert.ok(!tail.includes('</script><script>alert(1)'));
});
