import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { makeNonce, panelHtml } from '../../src/extension/panelHtml';

test('side panel CSP: default-src none, scripts by nonce only, no eval, no remote hosts', () => {
  const nonce = makeNonce();
  assert.match(nonce, /^[A-Za-z0-9]{16,}$/);
  assert.notEqual(nonce, makeNonce());
  const html = panelHtml({
    cspSource: 'https://x.vscode-cdn.net',
    nonce,
    scriptUri: 'https://x.vscode-cdn.net/dist/webview.js',
    styleUri: 'https://x.vscode-cdn.net/media/panel.css',
  });
  const csp = /Content-Security-Policy" content="([^"]+)"/.exec(html)![1].replace(/&#39;/g, "'");
  const dirs = Object.fromEntries(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([k, ...v]) => [k, v]),
  );
  assert.deepEqual(dirs['default-src'], ["'none'"]);
  assert.deepEqual(dirs['script-src'], [`'nonce-${nonce}'`]);
  assert.ok(!csp.includes('unsafe-eval'));
  assert.ok(!/\bhttps?:\/\/(?!x\.vscode-cdn\.net)/.test(csp));
  const scripts = html.match(/<script[^>]*>/g)!;
  assert.equal(scripts.length, 1);
  assert.ok(scripts.every((s) => s.includes(`nonce="${nonce}"`)));
});
