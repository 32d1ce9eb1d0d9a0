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
    // Expand the nested folder so the renamed model is visible in the explorer.
    await explorerRow(page, 'nested').click();
    await explorerRow(page, 'classifier.json').waitFor({ timeout: 15000 });
  });

  await check('palette: Analyze Model... runs the info job in the worker and reports the result', async () => {
    await runFromPalette(page, 'PruneScope: Analyze Model...');
    // Quick pick of detected models: both files, found by content.
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await rows.filter({ hasText: 'classifier.json' }).first().waitFor({ timeout: 15000 });
    await rows.filter({ hasText: 'model.json' }).first().waitFor({ timeout: 5000 });
    assert((await rows.filter({ hasText: 'config.json' }).count()) === 0, 'config.json (not a model) was offered');
    await page.screenshot({ path: path.join(SHOTS, '01-model-quick-pick.png') });
    await page.locator('.quick-input-widget input').fill('model.json');
    await page.keyboard.press('Enter');
    // 4*8+8 + 8*3+3 = 67 parameters in the fixture's two Dense layers.
    await toast(page, 'model.json has 2 layers and 67 parameters').waitFor({ timeout: 60000 });
    await page.screenshot({ path: path.join(SHOTS, '02-analyze-result.png') });
  });

  await check('side panel draws the figure from the worker with plotly, with a data table', async () => {
    const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await inner.locator('#figure .main-svg').first().waitFor({ timeout: 60000 });
    await inner.locator('#title', { hasText: 'model.json' }).waitFor({ timeout: 15000 });
    const bars = await inner.locator('#figure .bars path').count();
    assert(bars === 2, `expected 2 bars (one per Dense layer), got ${bars}`);
    const cells = await inner.locator('.figure-table tbody tr td').allTextContents();
    assert(cells.join('|') === 'parameters|hidden|40|parameters|out|27', `table alternative has ${cells.join('|')}`);
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, '03-side-panel.png') });
    await page.locator('iframe.webview.ready').first().screenshot({ path: path.join(SHOTS, '04-side-panel-webview.png') });
  });

  await check('explorer: right-click on a LayersModel (any name) shows the PruneScope entries, not on other json', async () => {
    await clearNotifications(page);
    await showExplorer(page);
    const onModel = await contextMenuLabels(page, 'classifier.json');
    await page.screenshot({ path: path.join(SHOTS, '05-context-menu-model.png') });
    for (const want of ['Analyze Model...', 'Prune Model...', 'Export Student Architecture...', 'Distill into Student...', 'Order Parameters by Gradient Variance...']) {
      assert(onModel.some((l) => l.includes(want)), `missing "${want}" in ${JSON.stringify(onModel)}`);
    }
    await page.keyboard.press('Escape');
    const onOther = await contextMenuLabels(page, 'config.json');
    await page.screenshot({ path: path.join(SHOTS, '06-context-menu-other.png') });
    await page.keyboard.press('Escape');
    assert(!onOther.some((l) => l.includes('Analyze Model')), `config.json menu has PruneScope entries: ${JSON.stringify(onOther)}`);
  });

  await check('explorer: the entry runs on the clicked file', async () => {
    await showExplorer(page);
    await contextMenuLabels(page, 'classifier.json');
    await page.locator('.context-view .action-label', { hasText: 'Analyze Model...' }).first().click();
    await toast(page, 'classifier.json has 2 layers and 67 parameters').waitFor({ timeout: 60000 });
    const inner = page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
    await inner.locator('#title', { hasText: 'classifier.json' }).waitFor({ timeout: 15000 });
  });

  await check('a command whose engine part has not landed says "not available yet"', async () => {
    await runFromPalette(page, 'PruneScope: Export Student Architecture...');
    await toast(page, 'Export Student Architecture is not available yet').waitFor({ timeout: 30000 });
  });

  await check('cancel of a long job clears the progress notification and the status bar item', async () => {
    await clearNotifications(page);
    await runFromPalette(page, 'PruneScope: Run Engine Self-Test');
    const progress = page.locator('.notifications-toasts .notification-toast', { hasText: /step \d+ of 60/ });
    await progress.first().waitFor({ timeout: 30000 });
    const status = page.locator('.statusbar-item', { hasText: 'PruneScope: Engine self-test' });
    await status.first().waitFor({ timeout: 10000 });
    await page.screenshot({ path: path.join(SHOTS, '07-long-job-progress.png') });
    // "Cancel Running Job" is only in the palette while a job runs (when clause).
    await runFromPalette(page, 'PruneScope: Cancel Running Job', 20000);
    await toast(page, 'Engine self-test cancelled.').waitFor({ timeout: 15000 });
    await progress.first().waitFor({ state: 'detached', timeout: 15000 });
    await status.first().waitFor({ state: 'detached', timeout: 10000 }).catch(async () => {
      assert(!(await status.first().isVisible()), 'status bar item still visible after cancel');
    });
    await page.screenshot({ path: path.join(SHOTS, '08-after-cancel.png') });
  });

  await check('notebook: a *.prune.ipynb cell runs in the worker and its plotly output is drawn by our renderer', async () => {
    await clearNotifications(page);
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('analysis.prune.ipynb');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'analysis.prune.ipynb' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press('Enter');
    await page.locator('.notebookOverlay').first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(1000);
    await runFromPalette(page, 'Notebook: Run All', 30000);
    // Notebook outputs live in their own webview: search every frame for the renderer's chart.
    const end = Date.now() + 60000;
    let found;
    while (!found && Date.now() < end) {
      for (const f of page.frames()) {
        if (await f.locator('.prunescope-figure .main-svg').count().catch(() => 0)) { found = f; break; }
      }
      if (!found) await page.waitForTimeout(500);
    }
    assert(found, 'no plotly chart in the notebook output');
    const bars = await found.locator('.prunescope-figure .bars path').count();
    assert(bars === 5, `expected 5 bars from demoFigure(3, 5), got ${bars}`);
    const box = await found.locator('.prunescope-figure .main-svg').first().boundingBox();
    assert(box && box.height >= 200, `notebook chart is squashed: ${JSON.stringify(box)}`);
    const text = await found.locator('body').innerText();
    assert(text.includes('params=67'), 'text output of prunescope.info (67 parameters) missing');
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, '09-notebook.png') });
  });

  await check('a worker crash is reported with its reason and last log lines; Restart Engine brings up a fresh one', async () => {
    await clearNotifications(page);
    await page.keyboard.press('Control+P');
    await page.locator('.quick-input-widget input').fill('crash.prune.ipynb');
    await page.locator('.quick-input-list .monaco-list-row', { hasText: 'crash.prune.ipynb' }).first().waitFor({ timeout: 15000 });
    await page.keyboard.press('Enter');
    await page.locator('.tab', { hasText: 'crash.prune.ipynb' }).first().waitFor({ timeout: 30000 });
    await page.waitForTimeout(1000);
    await runFromPalette(page, 'Notebook: Run All', 30000);
    const crash = toast(page, 'the engine worker exited with code 3');
    await crash.first().waitFor({ timeout: 30000 });
    const text = await crash.first().innerText();
    assert(text.includes('e2e: about to crash the worker'), `crash message lacks the log tail: ${text}`);
    await page.screenshot({ path: path.join(SHOTS, '10-worker-crash.png') });
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
