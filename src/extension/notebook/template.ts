// The notebook a user gets from "New Analysis Notebook" (optionally for a clicked model):
// every step visible and editable.
import * as vscode from 'vscode';
import { nbToData } from './serializer';

export function newAnalysisNotebook(modelPath?: string): vscode.NotebookData {
  const model = modelPath ? JSON.stringify(modelPath) : '"model.json" /* path to your TF.js LayersModel */';
  return nbToData({
    metadata: {},
    cells: [
      { kind: 'markdown', source: '# PruneScope analysis\nCells are JavaScript run by the PruneScope engine with `prunescope` in scope; `await` works at top level. `plot(figure)` draws a plotly figure.', outputs: [] },
      { kind: 'code', source: `const info = await prunescope.info(${model});\ndisplay(\`\${info.layers.length} layers, \${info.totalParams} parameters\`);\ninfo.layers`, outputs: [] },
      { kind: 'code', source: 'plot(prunescope.demoFigure(1, 12));', outputs: [] },
    ],
  });
}
