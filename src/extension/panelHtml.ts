// The side panel's HTML. CSP: nothing by default; scripts only with this page's nonce; styles
// from the extension plus inline (plotly injects <style> for SVG charts); no remote anything.
import { randomBytes } from 'crypto';

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
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
<script nonce="${esc(o.nonce)}" src="${esc(o.scriptUri)}"></script>
</body>
</html>`;
}
