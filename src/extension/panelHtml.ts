// The side panel's HTML. CSP: nothing by default; scripts only with this page's nonce; styles
// from the extension plus inline (plotly injects <style> for SVG charts); no remote anything.
import { randomBytes } from 'crypto';

export function makeNonce(): string {
  return randomBytes(18)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '');
}

export function panelCsp(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
    `style-src ${cspSource} 'unsafe-inline'`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function panelHtml(o: { cspSource: string; nonce: string; scriptUri: string; styleUri: string }): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${esc(panelCsp(o.cspSource, o.nonce))}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${esc(o.styleUri)}">
<title>PruneScope</title>
</head>
<body>
<header><h2 id="title">PruneScope</h2><p id="subtitle"></p></header>
<p id="status" role="status" aria-live="polite">Run "PruneScope: Analyze Model..." or show the demo figure.</p>
<button id="demo" type="button">Show demo figure</button>
<main id="figure"></main>
<section id="analysis" hidden aria-labelledby="analysis-title">
<h3 id="analysis-title">Summary</h3>
<table id="summary"><caption id="summary-caption"></caption><thead><tr><th scope="col">layer</th><th scope="col">in</th><th scope="col">out</th><th scope="col">activation</th></tr></thead><tbody></tbody></table>
<p id="summary-totals"></p>
<h3>Methods compared</h3>
<div id="curves" class="fig"></div>
<h3>Relevance per layer</h3>
<label for="heatmap-method">Method</label> <select id="heatmap-method"></select>
<div id="heatmaps"></div>
<h3>Belsley</h3>
<div id="belsley-condition" class="fig"></div>
<div id="belsley-proportions" class="fig"></div>
<p id="belsley-none" hidden>No Belsley view for this analysis.</p>
<h3>Variational posterior</h3>
<div id="variational" class="fig"></div>
<p id="variational-none" hidden>No variational posterior for this analysis.</p>
<h3>What if</h3>
<div class="whatif">
<label for="whatif-method">Method</label> <select id="whatif-method"></select>
<label for="whatif-share">Pruned share</label> <input id="whatif-share" type="range" min="0.05" max="0.95" step="0.05" value="0.5" aria-valuetext="50%">
<output id="whatif-share-label" for="whatif-share">50%</output>
<p id="whatif-value" aria-live="polite">Move the slider to measure the pruned model.</p>
<button id="save-pruned" type="button">Save pruned model</button> <button id="export-student" type="button">Export student</button>
</div>
</section>
<section id="channels" hidden aria-labelledby="channels-title">
<h3 id="channels-title">Channels</h3>
<p id="channels-summary"></p>
<table id="groups"><caption>Dependency groups: the channels removed together</caption><thead><tr><th scope="col">group</th><th scope="col">made by</th><th scope="col">channels</th><th scope="col">removable</th><th scope="col">weight slices per channel</th><th scope="col">fixed because</th></tr></thead><tbody></tbody></table>
<h4>Relevance per channel</h4>
<label for="channels-method">Method</label> <select id="channels-method"></select>
<div id="channel-bars"></div>
<h4>First convolution's filters</h4>
<label for="filters-input">Shown</label> <select id="filters-input"></select>
<p id="filters-caption"></p>
<div id="filters" role="list" aria-labelledby="filters-caption"></div>
<h4>What if (channels)</h4>
<div class="whatif">
<label for="channels-share">Channels removed</label> <input id="channels-share" type="range" min="0.05" max="0.95" step="0.05" value="0.5" aria-valuetext="50% of the channels removed">
<output id="channels-share-label" for="channels-share">50%</output>
<p id="channels-value" aria-live="polite">Move the slider to measure the model with whole channels removed.</p>
<button id="channels-save" type="button">Save channel-pruned model</button> <button id="channels-export" type="button">Export student (channels)</button>
</div>
</section>
<section id="gv" hidden>
<h3 id="gv-title">Gradient-variance ordering</h3>
<div id="gv-figures"></div>
<section id="gv-timeline-section" hidden aria-labelledby="gv-timeline-title">
<h4 id="gv-timeline-title">Freeze timeline</h4>
<p>Training from the model's weights: the minibatch loss with the least-variance half of the weights frozen at t0 and without freezing (same batches), and which parameters froze when.</p>
<div id="gv-timeline" class="fig" aria-live="polite"></div>
</section>
</section>
<script nonce="${esc(o.nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
