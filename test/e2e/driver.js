// Drives a real VS Code (code-server) with playwright-core + /usr/bin/chromium. Each check is
// independent in reporting (one failing does not hide the others) but runs in order, since
// they share one window. Screenshots go to $SHOTS; the last line is "N passed, N failed".
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');

const URL = process.env.CS_URL;
const SHOTS = process.env.SHOTS;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

function assert(cond, msg) { if (!cond) throw new Error(msg); }

async function runFromPalette(page, title, timeoutMs = 90000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    // Contributions (and our `when` context keys) appear a few seconds after the workbench.
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ timeout: 15000 });
    await input.fill('>' + title);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    if (await row.waitFor({ timeout: 3000 }).then(() => true, () => false)) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('Escape');
    await page.waitForTimeout(1000);
  }
  throw new Error('command never appeared in the palette: ' + title);
}

const toast = (page, text) => page.locator('.notifications-toasts .notification-toast', { hasText: text });
const explorerRow = (page, name) => page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();

async function contextMenuLabels(page, rowName) {
  await explorerRow(page, rowName).click({ button: 'right' });
  await page.locator('.context-view .action-label').first().waitFor({ timeout: 10000 });
  await page.waitForTimeout(300);
  return page.locator('.context-view .action-label').allTextContents();
}

async function showExplorer(page) {
  // Analyze reveals the PruneScope side bar, which replaces the explorer.
  await runFromPalette(page, 'View: Show Explorer', 15000);
  await explorerRow(page, 'model.json').waitFor({ timeout: 15000 });
}

const WS = process.env.WS;
// The side panel's webview (notebook outputs are webviews too: purpose tells them apart).
const PANEL_IFRAME = 'iframe.webview.ready[src*="purpose=webviewView"]';
const panelFrame = (page) => page.frameLocator(PANEL_IFRAME).first().frameLocator('#active-frame');

/**
 * The side panel's content frame once `pred(frame)` holds. When the view is hidden and shown
 * again VS Code creates a new webview and the old iframe can linger: try every frame with the
 * panel's markup whose iframe is visible.
 */
async function panelFrameWhere(page, pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (!(await f.locator('#whatif-share').count().catch(() => 0))) continue;
      const el = await f.frameElement().catch(() => null);
      const outer = f.parentFrame() ? await f.parentFrame().frameElement().catch(() => null) : null;
      if (!el || !(await el.isVisible().catch(() => false)) || (outer && !(await outer.isVisible().catch(() => false)))) continue;
      if (await pred(f).catch(() => false)) return { frame: f, iframe: outer || el };
    }
    await page.waitForTimeout(500);
  }
  throw new Error('side panel webview never satisfied the condition');
}

async function quickPickTitle(page, text, timeout = 30000) {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: text }).first().waitFor({ timeout });
}

/** Type into the open quick pick and accept the first row whose label matches. */
async function choose(page, label) {
  await page.locator('.quick-input-widget input').fill(label);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first().waitFor({ timeout: 10000 });
  await page.keyboard.press('Enter');
}

/** The frame (notebook output webview) whose text satisfies `pred` and that holds a chart or text. */
async function notebookFrame(page, pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      const body = await f.locator('body').innerText({ timeout: 1000 }).catch(() => '');
      if (body && pred(body)) return f;
    }
    await page.waitForTimeout(500);
  }
  return undefined;
}

/** Reads a LayersModel's shard(s) and counts exact zeros among the kernel weights (float32). */
function kernelZeros(modelJson) {
  const m = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  let zeros = 0, kernels = 0;
  for (const group of m.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(path.dirname(modelJson), p))));
    let off = 0;
    for (const w of group.weights) {
      assert(w.dtype === 'float32', `unexpected dtype ${w.dtype}`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const view = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 4 * n));
      if (/kernel/.test(w.name)) { kernels += n; for (const v of view) if (v === 0) zeros++; }
      off += 4 * n;
    }
  }
  return { zeros, kernels };
}

async function clearNotifications(page) {
  await runFromPalette(page, 'Notifications: Clear All Notifications', 15000).catch(() => {});
}

(async () => {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-chromium-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: '/usr/bin/chromium', headless: true, viewport: { width: 1400, height: 900 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const consoleErrors = [];
  // VS Code echoes error notifications to the console: the deliberate crash below is expected.
  page.on('console', (m) => {
    const t = m.text();
    if (m.type() === 'error' && /prunescope|Content Security Policy/i.test(t) && !t.includes('engine worker exited with code 3')) consoleErrors.push(t);
  });
  const results = [];
  const check = async (name, fn) => {
    const t = Date.now();
    try {
      await fn();
      results.push([name, true]);
      log(`PASS ${name} (${((Date.now() - t) / 1000).toFixed(1)}s)`);
    } catch (e) {
      results.push([name, false]);
      log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
      await page.screenshot({ path: path.join(SHOTS, `fail-${results.length}.png`) }).catch(() => {});
      await page.keyboard.press('Escape').catch(() => {});
    }
  };

  await check('workbench loads with the workspace', async () => {
    await page.goto(URL);
    await page.waitForSelector('.monaco-workbench', { timeout: 90000 });
    await explorerRow(page, 'model.json').waitFor({ timeout: 60000 });
    // Expand the folders so the renamed model and the Wine model are visible in the explorer.
    await explorerRow(page, 'nested').click();
    await explorerRow(page, 'classifier.json').waitFor({ timeout: 15000 });
    await explorerRow(page, 'wine').click();
    await explorerRow(page, 'wine.json').waitFor({ timeout: 15000 });
  });

  await check('palette: Analyze Model... reads the model, asks for data (fitting built-ins first), opens the analysis notebook', async () => {
    await runFromPalette(page, 'PruneScope: Analyze Model...');
    // Quick pick of detected models: all three files, found by content.
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'classifier.json' }).first().waitFor({ timeout: 15000 });
    await rows.filter({ hasText: 'wine.json' }).first().waitFor({ timeout: 5000 });
    assert((await rows.filter({ hasText: 'config.json' }).count()) === 0, 'config.json (not a model) was offered');
    await page.screenshot({ path: path.join(SHOTS, '01-model-quick-pick.png') });
    await page.locator('.quick-input-widget input').fill('model.json');
    await page.keyboard.press('Enter');
    // 4*8+8 + 8*3+3 = 67 parameters in the fixture's two Dense layers.
    await toast(page, 'model.json has 2 layers and 67 parameters').waitFor({ timeout: 60000 });
    await page.screenshot({ path: path.join(SHOTS, '02-analyze-result.png') });
    // Data: the 4-input 3-class model fits iris, offered first.
    await quickPickTitle(page, 'data for model.json');
    const first = await page.locator('.quick-input-list .monaco-list-row').first().innerText();
    assert(/iris/.test(first), `first data choice is not iris: ${first}`);
    await page.screenshot({ path: path.join(SHOTS, '03-data-quick-pick.png') });
    await choose(page, 'iris');
    await page.locator('.notebookOverlay').first().waitFor({ timeout: 30000 });
  });

  await check('side panel: the info figure, then the method-comparison curves and the Belsley heatmap (plotly) with data tables', async () => {
    const inner = panelFrame(page);
    await inner.locator('#figure .main-svg').first().waitFor({ timeout: 60000 });
    const bars = await inner.locator('#figure .bars path').count();
    assert(bars === 2, `expected 2 bars (one per Dense layer), got ${bars}`);
    const cells = await inner.locator('#figure .figure-table tbody tr td').allTextContents();
    assert(cells.join('|') === 'parameters|hidden|40|parameters|out|27', `table alternative has ${cells.join('|')}`);
    await inner.locator('#curves .main-svg').first().waitFor({ timeout: 180000 });
    await inner.locator('#title', { hasText: 'model.json' }).waitFor({ timeout: 15000 });
    const curves = await inner.locator('#curves .scatterlayer .trace').count();
    assert(curves >= 4, `expected a curve per method (4), got ${curves}`);
    await inner.locator('#belsley-proportions .main-svg .hm').first().waitFor({ timeout: 15000 });
    await inner.locator('#belsley-condition .main-svg').first().waitFor({ timeout: 15000 });
    const maps = inner.locator('#heatmaps > .heatmap');
    assert((await maps.count()) === 2, `expected one relevance heatmap per layer (2), got ${await maps.count()}`);
    for (let i = 0; i < 2; i++) await maps.nth(i).locator('.main-svg .hm').first().waitFor({ timeout: 15000 });
    assert((await inner.locator('#curves .figure-table tbody tr').count()) > 0, 'curves have no table alternative');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, '04-side-panel.png') });
    await page.locator(PANEL_IFRAME).first().screenshot({ path: path.join(SHOTS, '05-side-panel-webview.png') });
  });

  await check('explorer: right-click on a LayersModel (any name) shows the PruneScope entries, not on other json', async () => {
    await clearNotifications(page);
    await showExplorer(page);
    const onModel = await contextMenuLabels(page, 'classifier.json');
    await page.screenshot({ path: path.join(SHOTS, '06-context-menu-model.png') });
    for (const want of ['Analyze Model...', 'Prune Model...', 'Export Student Architecture...', 'Distill into Student...', 'Order Parameters by Gradient Variance...']) {
      assert(onModel.some((l) => l.includes(want)), `missing "${want}" in ${JSON.stringify(onModel)}`);
    }
    await page.keyboard.press('Escape');
    const onOther = await contextMenuLabels(page, 'config.json');
    await page.screenshot({ path: path.join(SHOTS, '07-context-menu-other.png') });
    await page.keyboard.press('Escape');
    assert(!onOther.some((l) => l.includes('Analyze Model')), `config.json menu has PruneScope entries: ${JSON.stringify(onOther)}`);
  });

  await check('explorer: right-click wine.json -> Analyze Model... on built-in wine opens the notebook and focuses the panel on it', async () => {
    await showExplorer(page);
    await contextMenuLabels(page, 'wine.json');
    await page.locator('.context-view .action-label', { hasText: 'Analyze Model...' }).first().click();
    await toast(page, 'wine.json has 2 layers and 105 parameters').waitFor({ timeout: 60000 });
    await quickPickTitle(page, 'data for wine.json');
    await choose(page, 'wine');
    assert(await notebookFrame(page, (body) => body.includes('wine/wine.json'), 60000), 'no notebook for wine.json');
    await panelFrameWhere(page, async (f) => (await f.locator('#title').innerText()) === 'wine.json' && (await f.locator('#subtitle').innerText()).includes('on wine'), 180000);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, '08-analyze-wine-notebook.png') });
  });

  await check('what-if slider: moving it shows the measured metric of the pruned model and the time', async () => {
    const { frame: inner, iframe } = await panelFrameWhere(page, async (f) => (await f.locator('#title').innerText()) === 'wine.json' && (await f.locator('#whatif-method option').count()) > 0, 60000);
    const value = inner.locator('#whatif-value');
    const slider = inner.locator('#whatif-share');
    await slider.scrollIntoViewIfNeeded();
    await slider.focus();
    await slider.press('Home');
    await value.filter({ hasText: /at 5%: test accuracy [\d.]+%.* in \d+ ms/ }).waitFor({ timeout: 30000 });
    const low = await value.innerText();
    await slider.press('End');
    await value.filter({ hasText: /at 95%: test accuracy [\d.]+%/ }).waitFor({ timeout: 30000 });
    const high = await value.innerText();
    const acc = (t) => Number(/test accuracy ([\d.]+)%/.exec(t)[1]);
    assert(acc(low) !== acc(high), `metric did not change: ${low} / ${high}`);
    log(`what-if: ${low} | ${high}`);
    await iframe.screenshot({ path: path.join(SHOTS, '09-whatif.png') });
  });

  await check('Prune Model...: a new model file with the chosen share of exact zeros among the kernel weights', async () => {
    await clearNotifications(page);
    await runFromPalette(page, 'PruneScope: Prune Model...');
    await quickPickTitle(page, 'choose a TF.js model');
    await choose(page, 'wine.json');
    await quickPickTitle(page, 'relevance method');
    await choose(page, 'obd');
    await quickPickTitle(page, 'OBD curvature');
    await choose(page, 'ggn');
    await quickPickTitle(page, 'share of weights to prune');
    await choose(page, '50%');
    await quickPickTitle(page, 'data for wine.json');
    await choose(page, 'wine');
    const done = toast(page, /pruned \d+ of \d+ weights into/);
    await done.first().waitFor({ timeout: 120000 });
    const text = await done.first().innerText();
    const [, n, m] = /pruned (\d+) of (\d+) weights/.exec(text).map(Number);
    await page.screenshot({ path: path.join(SHOTS, '10-prune.png') });
    // The analysis notebook's prune cell may have taken wine-pruned-obd-0.5 already: then "-2".
    const rel = /into (wine\/wine-pruned-obd-0\.5(?:-\d+)?\/model\.json)/.exec(text);
    assert(rel, `unexpected output folder in: ${text}`);
    const out = path.join(WS, rel[1]);
    assert(fs.existsSync(out), `${out} missing`);
    const zeros = kernelZeros(out);
    const orig = kernelZeros(path.join(WS, 'wine', 'wine.json'));
    assert(orig.zeros === 0, `the original model was changed: ${orig.zeros} zeros`);
    assert(zeros.kernels === m, `${zeros.kernels} kernel weights on disk, the job reported ${m} candidates`);
    assert(zeros.zeros === n, `${zeros.zeros} exact zeros on disk, the job reported ${n}`);
    assert(Math.abs(n - 0.5 * m) <= 1, `${n} of ${m} is not half`);
    log(`prune: ${zeros.zeros} of ${zeros.kernels} kernel weights are exact zeros`);
  });

  await check('palette: New Analysis Notebook (no files needed) runs and its cells draw plotly outputs', async () => {
    await clearNotifications(page);
    await runFromPalette(page, 'PruneScope: New Analysis Notebook');
    // Cell 0 trains the model into a new workspace folder; its output names the file.
    const found = await notebookFrame(page, (body) => /trained 13-6-3 in [\d.]+ s: .*prunescope-wine-example/.test(body), 180000);
    assert(found, 'no notebook output from training the example model');
    // The relevance and Belsley cells draw figures. Outputs below the fold are rendered only when
    // scrolled into view: wheel down over the notebook until two charts are drawn.
    const end = Date.now() + 120000;
    const box = await page.locator('.editor-group-container.active .editor-container').first().boundingBox();
    while ((await found.locator('.prunescope-figure .main-svg').count()) < 2 && Date.now() < end) {
      if (box) { await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2); await page.mouse.wheel(0, 400); }
      await page.waitForTimeout(500);
    }
    const n = await found.locator('.prunescope-figure .main-svg').count();
    assert(n >= 2, `expected at least 2 plotly outputs, got ${n}`);
    assert(fs.existsSync(path.join(WS, 'prunescope-wine-example', 'model.json')), 'example model not created in the workspace');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, '11-new-notebook.png') });
  });

  await check('cancel of a long job clears the progress notification and the status bar item', async () => {
    await clearNotifications(page);
    await runFromPalette(page, 'PruneScope: Run Engine Self-Test');
    const progress = page.locator('.notifications-toasts .notification-toast', { hasText: /step \d+ of 60/ });
    await progress.first().waitFor({ timeout: 30000 });
    const status = page.locator('.statusbar-item', { hasText: 'PruneScope: Engine self-test' });
    await status.first().waitFor({ timeout: 10000 });
    await page.screenshot({ path: path.join(SHOTS, '12-long-job-progress.png') });
    // "Cancel Running Job" is only in the palette while a job runs (when clause).
    await runFromPalette(page, 'PruneScope: Cancel Running Job', 20000);
    await toast(page, 'Engine self-test cancelled.').waitFor({ timeout: 15000 });
    await progress.first().waitFor({ state: 'detached', timeout: 15000 });
    await status.first().waitFor({ state: 'detached', timeout: 10000 }).catch(async () => {
      assert(!(await status.first().isVisible()), 'status bar item still visible after cancel');
    });
    await page.screenshot({ path: path.join(SHOTS, '13-after-cancel.png') });
  });

  await check('notebook: a *.prune.ipynb cell runs in the worker and its plotly output is drawn by our renderer', async () => {
    await clearNotifications(page);
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('analysis.prune.ipynb');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'analysis.prune.ipynb' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press('Enter');
    // Other notebooks are open by now: wait until this one is the active editor before Run All.
    await page.locator('.tab.active', { hasText: 'analysis.prune.ipynb' }).first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(1500);
    await runFromPalette(page, 'Notebook: Run All', 30000);
    // Notebook outputs live in their own webview (one per open notebook): find this notebook's.
    const found = await notebookFrame(page, (body) => body.includes('params=67'), 60000);
    assert(found, 'no plotly chart in the notebook output');
    await found.locator('.prunescope-figure .main-svg').first().waitFor({ timeout: 30000 });
    const bars = await found.locator('.prunescope-figure .bars path').count();
    assert(bars === 5, `expected 5 bars from demoFigure(3, 5), got ${bars}`);
    const box = await found.locator('.prunescope-figure .main-svg').first().boundingBox();
    assert(box && box.height >= 200, `notebook chart is squashed: ${JSON.stringify(box)}`);
    const text = await found.locator('body').innerText();
    assert(text.includes('params=67'), 'text output of prunescope.info (67 parameters) missing');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, '14-notebook.png') });
  });

  await check('a worker crash is reported with its reason and last log lines; Restart Engine brings up a fresh one', async () => {
    await clearNotifications(page);
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('crash.prune.ipynb');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'crash.prune.ipynb' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press('Enter');
    await page.locator('.tab.active', { hasText: 'crash.prune.ipynb' }).first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(1000);
    await runFromPalette(page, 'Notebook: Run All', 30000);
    const crash = toast(page, 'the engine worker exited with code 3');
    await crash.first().waitFor({ timeout: 30000 });
    const text = await crash.first().innerText();
    assert(text.includes('e2e: about to crash the worker'), `crash message lacks the log tail: ${text}`);
    await page.screenshot({ path: path.join(SHOTS, '15-worker-crash.png') });
    await clearNotifications(page);
    await runFromPalette(page, 'PruneScope: Restart Engine');
    await toast(page, /engine restarted \(pid \d+\)/).first().waitFor({ timeout: 30000 });
  });

  await check('the webviews raised no CSP or PruneScope console errors', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 3).join(' | '));
  });

  await ctx.close().catch(() => {});
  fs.rmSync(udd, { recursive: true, force: true });
  const passed = results.filter((r) => r[1]).length;
  const failed = results.length - passed;
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => { console.error('driver crashed:', e.message); console.log('0 passed, 1 failed'); process.exit(1); });
