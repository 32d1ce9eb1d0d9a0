// PruneScope: Show Relevance Panel: reveals the side panel; analyses the model in focus if its
// data is known and it has not been analysed yet, else shows the demo figure in an empty panel.
import { runAnalysis } from '../analysis';
import { available, type Deps } from '../deps';
import { panelActions } from '../panelActions';

export async function showPanel(d: Deps): Promise<void> {
  await d.panel.reveal();
  const f = d.focus.current;
  if (f && f.data && !f.analysed && (await available(d, 'analysis'))) {
    await runAnalysis(d, f.modelPath, f.data);
    return;
  }
  if (!d.panel.hasFigure) await panelActions(d).figure('demo');
}
