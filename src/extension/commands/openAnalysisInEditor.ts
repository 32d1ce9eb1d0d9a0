// PruneScope: Open Analysis in Editor (also the side panel's title button): the analysis view in
// the editor area, where the comparison curves and heatmaps get the window's width.
import type { Deps } from '../deps';

export function openAnalysisInEditor(d: Deps): void {
  d.editorPanel.open();
}
