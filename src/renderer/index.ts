// Notebook renderer for application/vnd.plotly.v1+json outputs: the same drawing code as the
// side panel, themed by the notebook's --vscode-* colours.
import { drawFigure, onThemeChange, redrawAll, resizeAll } from '../webview/draw';

interface OutputItem {
  json(): unknown;
  id: string;
}
interface RendererContext {
  workspace?: { isTrusted: boolean };
}

export function activate(_ctx: RendererContext) {
  window.addEventListener('resize', () => resizeAll(document));
  // Light / dark / high contrast: colours come from --vscode-* at draw time, so redraw on a switch.
  onThemeChange(() => {
    void redrawAll();
  });
  return {
    renderOutputItem(item: OutputItem, element: HTMLElement) {
      let fig: unknown;
      try {
        fig = item.json();
      } catch {
        element.textContent = 'PruneScope: the figure output is not valid JSON';
        return;
      }
      element.classList.add('prunescope-figure');
      element.style.minHeight = '320px';
      void drawFigure(element, fig);
    },
    disposeOutputItem(_id?: string) {
      /* plotly elements go with their DOM */
    },
  };
}
