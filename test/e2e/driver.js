// Drives a real VS Code (code-server) with playwright-core + /usr/bin/chromium. Each check is
// independent in reporting (one failing does not hide the others) but runs in order, since
// they share one window. Screenshots go to $SHOTS; the last line is "N passed, N failed".
//
// Adding a check WITHOUT editing this file: put a module in test/e2e/checks/ (run in file-name
// order, after the built-in trusted-window checks and before the Restricted Mode ones), e.g.
// `checks/20-formats-onnx.js` exporting `title` (optional) and `async function run(ctx)`; a
// throw fails that check only. ctx (see `checkContext` below):
//   page        the trusted window (playwright Page); the workspace is open in it
//   workspace   absolute path of that workspace folder (model.json, nested/classifier.json,
//               wine/wine.json, config.json, the fixtures' notebooks); write your own inputs here
//   shots       the screenshots folder; screenshot(name) saves the window as <name>.png there
//   log, assert the driver's log (timestamped) and assert(cond, message)
//   helpers     runFromPalette, toast, explorerRow, contextMenuLabels, showExplorer, explorerCommand,
//               quickOpen, quickPickTitle, choose, quickInputState, answerPrompts, clearNotifications,
//               analysisFrameWhere, panelFrameWhere, notebookFrame, kernelZeros, manifestParams,
//               shardBytes, listFiles, newestDir, installedManifest (each documented where defined)
// E2E_ONLY=<regex> runs only the check modules whose file name matches (and the workbench load).
'use strict';
const { chromium } = require('playwright-core');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { loadCheckModules, onlyPattern } = require('./checkModules');

const URL = process.env.CS_URL;
const SHOTS = process.env.SHOTS;
const t0 = Date.now();
const log = (...a) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1)}s]`, ...a);

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function runFromPalette(page, title, timeoutMs = 90000) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    // Contributions (and our `when` context keys) appear a few seconds after the workbench.
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    if (
      !(await input.waitFor({ timeout: 5000 }).then(
        () => true,
        () => false,
      ))
    ) {
      // A focused webview keeps F1 to itself: the title bar's command center opens the same input.
      await page
        .locator('.command-center-center')
        .first()
        .click()
        .catch(() => {});
      await input.waitFor({ timeout: 15000 });
    }
    await input.fill('>' + title);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    if (
      await row.waitFor({ timeout: 3000 }).then(
        () => true,
        () => false,
      )
    ) {
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

/**
 * The side panel's content frame once `pred(frame)` holds. When the view is hidden and shown
 * again VS Code creates a new webview and the old iframe can linger: try every frame with the
 * panel's markup whose iframe is visible.
 */
async function panelFrameWhere(page, pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    for (const f of page.frames()) {
      if (
        !(await f
          .locator('#whatif-share')
          .count()
          .catch(() => 0))
      )
        continue;
      const el = await f.frameElement().catch(() => null);
      const outer = f.parentFrame()
        ? await f
            .parentFrame()
            .frameElement()
            .catch(() => null)
        : null;
      if (!el || !(await el.isVisible().catch(() => false)) || (outer && !(await outer.isVisible().catch(() => false))))
        continue;
      if (await pred(f).catch(() => false)) return { frame: f, iframe: outer || el };
    }
    await page.waitForTimeout(500);
  }
  throw new Error('side panel webview never satisfied the condition');
}

/**
 * The analysis page in the side panel (`where` = 'side': a webview view) or in the editor area
 * ('editor': a webview panel), once `pred(frame)` holds; with its outer iframe element.
 */
async function analysisFrameWhere(page, where, pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  let seen = [];
  while (Date.now() < end) {
    // What the last pass saw, for the error: every analysis page, where it is, and what it shows.
    seen = [];
    const sidebar = await page
      .locator('.part.sidebar')
      .first()
      .boundingBox()
      .catch(() => null);
    for (const f of page.frames()) {
      if (
        !f.parentFrame() ||
        !(await f
          .locator('#curves')
          .count()
          .catch(() => 0))
      )
        continue;
      const outer = await f
        .parentFrame()
        .frameElement()
        .catch(() => null);
      const visible = !!outer && (await outer.isVisible().catch(() => false));
      // Where it is on screen: a webview view's iframe is laid over the side bar. (The src's
      // purpose=webviewView is not reliable: after the side bar had shown the explorer, it was gone.)
      const box = visible ? await outer.boundingBox().catch(() => null) : null;
      const mid = box ? box.x + box.width / 2 : -1;
      const side = !!sidebar && mid >= sidebar.x && mid <= sidebar.x + sidebar.width;
      const title = await f
        .locator('#title')
        .innerText({ timeout: 2000 })
        .catch(() => '?');
      const plots = await f
        .locator('.main-svg')
        .count()
        .catch(() => -1);
      seen.push(`${side ? 'side' : 'editor'}${visible ? '' : ' (hidden)'} "${title}" ${plots} plots`);
      if (!visible || side !== (where === 'side')) continue;
      if (await pred(f).catch(() => false)) return { frame: f, iframe: outer };
    }
    await page.waitForTimeout(500);
  }
  throw new Error(`the ${where} analysis view never satisfied the condition; pages seen: ${seen.join('; ') || 'none'}`);
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
      const body = await f
        .locator('body')
        .innerText({ timeout: 1000 })
        .catch(() => '');
      if (body && pred(body)) return f;
    }
    await page.waitForTimeout(500);
  }
  return undefined;
}

/** Reads a LayersModel's shard(s) and counts exact zeros among the kernel weights (float32). */
function kernelZeros(modelJson) {
  const m = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  let zeros = 0,
    kernels = 0;
  for (const group of m.weightsManifest) {
    const buf = Buffer.concat(group.paths.map((p) => fs.readFileSync(path.join(path.dirname(modelJson), p))));
    let off = 0;
    for (const w of group.weights) {
      assert(w.dtype === 'float32', `unexpected dtype ${w.dtype}`);
      const n = w.shape.reduce((a, b) => a * b, 1);
      const view = new Float32Array(buf.buffer.slice(buf.byteOffset + off, buf.byteOffset + off + 4 * n));
      if (/kernel/.test(w.name)) {
        kernels += n;
        for (const v of view) if (v === 0) zeros++;
      }
      off += 4 * n;
    }
  }
  return { zeros, kernels };
}

async function clearNotifications(page) {
  await runFromPalette(page, 'Notifications: Clear All Notifications', 15000).catch(() => {});
}

/** Parameters of a LayersModel from its weights manifest (sum of the shapes' products). */
function manifestParams(modelJson) {
  const m = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  return m.weightsManifest.flatMap((g) => g.weights).reduce((a, w) => a + w.shape.reduce((x, y) => x * y, 1), 0);
}

/** Bytes of a LayersModel's weight files (the shards its manifest names). */
function shardBytes(modelJson) {
  const m = JSON.parse(fs.readFileSync(modelJson, 'utf8'));
  return m.weightsManifest
    .flatMap((g) => g.paths)
    .reduce((a, p) => a + fs.statSync(path.join(path.dirname(modelJson), p)).size, 0);
}

/** Every file under `dir` (relative paths, sorted): a before/after snapshot proves nothing was written. */
function listFiles(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

/** The quick input's title, prompt and value, or undefined when it is closed. */
async function quickInputState(page) {
  const w = page.locator('.quick-input-widget');
  if (!(await w.isVisible().catch(() => false))) return undefined;
  const text = async (sel) =>
    (
      (await w
        .locator(sel)
        .first()
        .textContent({ timeout: 500 })
        .catch(() => '')) || ''
    ).trim();
  const rows = await w
    .locator('.quick-input-list .monaco-list-row')
    .count()
    .catch(() => 0);
  const listShown =
    rows > 0 &&
    (await w
      .locator('.quick-input-list')
      .first()
      .isVisible()
      .catch(() => false));
  return {
    title: await text('.quick-input-title'),
    message: await text('.quick-input-message'),
    value: await w
      .locator('input')
      .first()
      .inputValue()
      .catch(() => ''),
    placeholder:
      (await w
        .locator('input')
        .first()
        .getAttribute('placeholder')
        .catch(() => '')) || '',
    isPick: listShown,
  };
}

/**
 * Answers a command's prompts until `started` resolves true (the job runs). `answer(state)` returns
 * a label to choose (quick pick), a string to type (input box), or null to accept the default
 * (Enter): robust to prompts being added, removed or reordered by later versions.
 */
async function answerPrompts(page, answer, started, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  let last = '',
    lastAt = 0;
  const seen = [];
  while (Date.now() < end) {
    if (await started()) return seen;
    const st = await quickInputState(page);
    const sig = st && `${st.title}|${st.message}|${st.placeholder}|${st.isPick}`;
    // Right after an answer the widget can still show the old prompt: give it a moment to move on
    // (a next prompt that looks exactly the same gets answered after 3 s).
    if (!st || (sig === last && Date.now() - lastAt < 3000)) {
      await page.waitForTimeout(200);
      continue;
    }
    const a = answer(st);
    seen.push(
      `${st.isPick ? 'pick' : 'input'} "${st.title || st.placeholder}"${a === null ? ' (default)' : ` -> ${a}`}`,
    );
    assert(seen.length <= 15, `too many prompts: ${seen.join('; ')}`);
    if (st.isPick && a !== null) await choose(page, a);
    else {
      if (a !== null) await page.locator('.quick-input-widget input').fill(a);
      await page.keyboard.press('Enter');
    }
    last = sig;
    lastAt = Date.now();
  }
  throw new Error(`the job did not start; prompts seen: ${seen.join('; ')}`);
}

/** Right-click `rowName` in the explorer and run the PruneScope entry `title`. */
async function explorerCommand(page, rowName, title) {
  await showExplorer(page);
  await contextMenuLabels(page, rowName);
  await page.locator('.context-view .action-label', { hasText: title }).first().click();
}

/** The newest folder beside `dir/...` whose name matches `re`. */
function newestDir(dir, re) {
  const hits = fs
    .readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && re.test(e.name))
    .map((e) => path.join(dir, e.name))
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  return hits[0];
}

/** package.json of the PruneScope extension installed in code-server's extensions folder. */
function installedManifest() {
  const dir = process.env.EXT_DIR;
  const hit = fs
    .readdirSync(dir)
    .map((d) => path.join(dir, d, 'package.json'))
    .find((f) => fs.existsSync(f) && JSON.parse(fs.readFileSync(f, 'utf8')).name === 'prunescope');
  assert(hit, `PruneScope is not installed in ${dir}`);
  return hit;
}

/** Opens a workspace file with Quick Open and waits until it is the active tab. */
async function quickOpen(page, name) {
  await page.keyboard.press('Control+P');
  await page.locator('.quick-input-widget input').fill(name);
  // Ctrl+P first lists recently opened editors: wait until the filtered list's FIRST row (the one
  // Enter opens) is the file, not merely until the file is somewhere in the list.
  const first = page.locator('.quick-input-list .monaco-list-row').first();
  const end = Date.now() + 15000;
  while (!(await first.innerText().catch(() => '')).includes(name)) {
    assert(Date.now() < end, `Quick Open never listed ${name} first`);
    await page.waitForTimeout(100);
  }
  await page.keyboard.press('Enter');
}

(async () => {
  const udd = fs.mkdtempSync(path.join(os.tmpdir(), 'pw-chromium-'));
  const ctx = await chromium.launchPersistentContext(udd, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = ctx.pages()[0] || (await ctx.newPage());
  const consoleErrors = [];
  // VS Code echoes error notifications to the console: the deliberate crash below is expected.
  page.on('console', (m) => {
    const t = m.text();
    if (
      m.type() === 'error' &&
      /prunescope|Content Security Policy/i.test(t) &&
      !t.includes('engine worker exited with code 3')
    )
      consoleErrors.push(t);
  });
  const results = [];
  let active = page; // the window the current check drives (the restricted one at the end)
  const only = onlyPattern(process.env);
  const always = new Set([
    'workbench loads with the workspace',
    'the webviews raised no CSP or PruneScope console errors',
  ]);
  let skipped = 0;
  const check = async (name, fn, { fromModule = false } = {}) => {
    if (only && !fromModule && !always.has(name)) {
      skipped++;
      return;
    }
    const t = Date.now();
    try {
      await fn();
      results.push([name, true]);
      log(`PASS ${name} (${((Date.now() - t) / 1000).toFixed(1)}s)`);
    } catch (e) {
      results.push([name, false]);
      log(`FAIL ${name}: ${e.message.split('\n')[0]}`);
      await active.screenshot({ path: path.join(SHOTS, `fail-${results.length}.png`) }).catch(() => {});
      // The DOM text (notifications, quick input, editors) says more than a picture when diagnosing.
      const dom = await active
        .locator('body')
        .innerText({ timeout: 5000 })
        .catch((err) => `(no DOM text: ${err.message})`);
      fs.writeFileSync(path.join(SHOTS, `fail-${results.length}.txt`), `${name}\n${e.stack}\n\n${dom}\n`);
      await active.keyboard.press('Escape').catch(() => {});
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

  await check(
    'opening a *.prune.ipynb opens PruneScope\'s notebook directly (no "Select editor" pick, no warning) with the PruneScope kernel',
    async () => {
      // First thing after the workbench: VS Code warns about conflicting default editors only until
      // the warning is closed once (closing stores the choice), so a later check could not see it.
      // Notifications are also announced in the screen-reader alert region, which outlives fading
      // toasts: empty it so that only what this open announces is read below.
      const alerts = () =>
        page
          .locator('.monaco-alert')
          .allInnerTexts()
          .then((a) => a.join(' | '))
          .catch(() => '');
      await page.evaluate(() =>
        document.querySelectorAll('.monaco-alert').forEach((e) => {
          e.textContent = '';
        }),
      );
      const t = Date.now();
      await quickOpen(page, 'interrupt.prune.ipynb');
      // If VS Code could not tell which notebook type owns the file it would ask here.
      const end = Date.now() + 30000;
      let opened = false;
      while (Date.now() < end && !opened) {
        const st = await quickInputState(page);
        assert(
          !st || !/select editor|open with|reopen editor/i.test(`${st.title} ${st.placeholder} ${st.message}`),
          `VS Code asked for an editor: ${JSON.stringify(st)}`,
        );
        opened =
          (await page.locator('.tab.active', { hasText: 'interrupt.prune.ipynb' }).count()) > 0 &&
          (await page.locator('.notebookOverlay:visible').count()) > 0;
        if (!opened) await page.waitForTimeout(200);
      }
      assert(opened, 'the notebook editor did not open');
      const kernel = page.locator('.notebookOverlay:visible .notebook-toolbar-container', {
        hasText: 'PruneScope (JavaScript)',
      });
      await kernel.first().waitFor({ timeout: 60000 });
      log(`open notebook: editor and kernel shown after ${Date.now() - t} ms`);
      await page.screenshot({ path: path.join(SHOTS, '01-notebook-kernel.png') });
      // Two notebook types claiming *.prune.ipynb with equal priority: VS Code opens one and warns
      // ("multiple default editors"), as a toast and in the alert region.
      const warned = async () =>
        /multiple default editors/i.test(
          `${await alerts()} ${(await page.locator('.notifications-toasts').allInnerTexts()).join(' ')}`,
        );
      const until = Date.now() + 3000;
      let warning = false;
      while (!warning && Date.now() < until) {
        warning = await warned();
        if (!warning) await page.waitForTimeout(200);
      }
      log(`open notebook: alert region says "${await alerts()}"`);
      assert(
        !warning,
        'VS Code warned "There are multiple default editors available for the resource." (two notebook types claim *.prune.ipynb)',
      );
      await runFromPalette(page, 'View: Close Editor', 15000);
    },
  );

  await check(
    'palette: Analyze Model... reads the model, asks for data (fitting built-ins first), opens the analysis notebook',
    async () => {
      await runFromPalette(page, 'PruneScope: Analyze Model...');
      // Quick pick of detected models: all three files, found by content.
      const rows = page.locator('.quick-input-list .monaco-list-row');
      await rows.filter({ hasText: 'classifier.json' }).first().waitFor({ timeout: 15000 });
      await rows.filter({ hasText: 'wine.json' }).first().waitFor({ timeout: 5000 });
      assert((await rows.filter({ hasText: 'config.json' }).count()) === 0, 'config.json (not a model) was offered');
      await page.screenshot({ path: path.join(SHOTS, '02-model-quick-pick.png') });
      await page.locator('.quick-input-widget input').fill('model.json');
      await page.keyboard.press('Enter');
      // 4*8+8 + 8*3+3 = 67 parameters in the fixture's two Dense layers.
      await toast(page, 'model.json has 2 layers and 67 parameters').waitFor({ timeout: 60000 });
      await page.screenshot({ path: path.join(SHOTS, '03-analyze-result.png') });
      // Data: the 4-input 3-class model fits iris, offered first.
      await quickPickTitle(page, 'data for model.json');
      const first = await page.locator('.quick-input-list .monaco-list-row').first().innerText();
      assert(/iris/.test(first), `first data choice is not iris: ${first}`);
      await page.screenshot({ path: path.join(SHOTS, '04-data-quick-pick.png') });
      await choose(page, 'iris');
      await page.locator('.notebookOverlay').first().waitFor({ timeout: 30000 });
    },
  );

  await check(
    'side panel: the info figure, then the method-comparison curves and the Belsley heatmap (plotly) with data tables',
    async () => {
      // Found by its content: the first webview view in the window is not always PruneScope's.
      const { frame: inner, iframe } = await analysisFrameWhere(
        page,
        'side',
        async (f) => (await f.locator('#figure .main-svg').count()) > 0,
        180000,
      );
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
      await page.screenshot({ path: path.join(SHOTS, '05-side-panel.png') });
      await iframe.screenshot({ path: path.join(SHOTS, '06-side-panel-webview.png') });
    },
  );

  await check(
    'explorer: right-click on a LayersModel (any name) shows the PruneScope entries, not on other json',
    async () => {
      await clearNotifications(page);
      await showExplorer(page);
      const onModel = await contextMenuLabels(page, 'classifier.json');
      await page.screenshot({ path: path.join(SHOTS, '07-context-menu-model.png') });
      for (const want of [
        'Analyze Model...',
        'Prune Model...',
        'Export Student Architecture...',
        'Distill into Student...',
        'Order Parameters by Gradient Variance...',
      ]) {
        assert(
          onModel.some((l) => l.includes(want)),
          `missing "${want}" in ${JSON.stringify(onModel)}`,
        );
      }
      await page.keyboard.press('Escape');
      const onOther = await contextMenuLabels(page, 'config.json');
      await page.screenshot({ path: path.join(SHOTS, '08-context-menu-other.png') });
      await page.keyboard.press('Escape');
      assert(
        !onOther.some((l) => l.includes('Analyze Model')),
        `config.json menu has PruneScope entries: ${JSON.stringify(onOther)}`,
      );
    },
  );

  await check(
    'explorer: right-click wine.json -> Analyze Model... on built-in wine opens the notebook and focuses the panel on it',
    async () => {
      await showExplorer(page);
      await contextMenuLabels(page, 'wine.json');
      await page.locator('.context-view .action-label', { hasText: 'Analyze Model...' }).first().click();
      await toast(page, 'wine.json has 2 layers and 105 parameters').waitFor({ timeout: 60000 });
      await quickPickTitle(page, 'data for wine.json');
      await choose(page, 'wine');
      assert(await notebookFrame(page, (body) => body.includes('wine/wine.json'), 60000), 'no notebook for wine.json');
      await panelFrameWhere(
        page,
        async (f) =>
          (await f.locator('#title').innerText()) === 'wine.json' &&
          (await f.locator('#subtitle').innerText()).includes('on wine'),
        180000,
      );
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(SHOTS, '09-analyze-wine-notebook.png') });
    },
  );

  await check('what-if slider: moving it shows the measured metric of the pruned model and the time', async () => {
    const { frame: inner, iframe } = await panelFrameWhere(
      page,
      async (f) =>
        (await f.locator('#title').innerText()) === 'wine.json' &&
        (await f.locator('#whatif-method option').count()) > 0,
      60000,
    );
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
    await iframe.screenshot({ path: path.join(SHOTS, '10-whatif.png') });
  });

  await check(
    "what-if buttons: Save pruned model writes the slider's share of zeros; Export student writes a student folder",
    async () => {
      await clearNotifications(page);
      const { frame: inner, iframe } = await panelFrameWhere(
        page,
        async (f) =>
          (await f.locator('#title').innerText()) === 'wine.json' &&
          (await f.locator('#whatif-method option').count()) > 0,
        60000,
      );
      const slider = inner.locator('#whatif-share');
      await slider.scrollIntoViewIfNeeded();
      await slider.focus();
      // Home = 5%, then five 5% steps: 30%.
      await slider.press('Home');
      for (let i = 0; i < 5; i++) await slider.press('ArrowRight');
      await inner
        .locator('#whatif-value')
        .filter({ hasText: /at 30%: test accuracy/ })
        .waitFor({ timeout: 30000 });
      const label = (await inner.locator('#whatif-share-label').innerText()).trim();
      assert(label === '30%', `slider label is ${label}`);
      const share = 0.3;
      const method = await inner.locator('#whatif-method').inputValue();
      await iframe.screenshot({ path: path.join(SHOTS, '11-whatif-30.png') });
      await inner.locator('#save-pruned').click();
      const done = toast(page, /pruned \d+ of \d+ weights into/);
      await done.first().waitFor({ timeout: 120000 });
      const text = await done.first().innerText();
      const rel = new RegExp(`into (wine/wine-pruned-${method}-0\\.3(?:-\\d+)?/model\\.json)`).exec(text);
      assert(rel, `unexpected output folder (method ${method}, 30%) in: ${text}`);
      const z = kernelZeros(path.join(WS, rel[1]));
      // The share counts kernel weights (biases stay): floor or round of 0.3 x kernels.
      assert(
        Math.abs(z.zeros - share * z.kernels) <= 1,
        `${z.zeros} of ${z.kernels} kernel weights are zeros, slider said ${label}`,
      );
      log(`panel save pruned (${method}, ${label}): ${z.zeros} of ${z.kernels} kernel weights are zeros`);
      await clearNotifications(page);
      const again = await panelFrameWhere(
        page,
        async (f) => (await f.locator('#title').innerText()) === 'wine.json',
        30000,
      );
      await again.frame.locator('#export-student').click();
      const st = toast(page, /student [\d-]+ -> [\d-]+: \d+ -> \d+ parameters/);
      await st.first().waitFor({ timeout: 120000 });
      const stText = await st.first().innerText();
      const folder = new RegExp(`in (wine/wine-student-${method}-0\\.3(?:-\\d+)?)\\.`).exec(stText);
      assert(folder, `unexpected student folder in: ${stText}`);
      const dir = path.join(WS, folder[1]);
      for (const f of ['model.json', 'student.json'])
        assert(fs.existsSync(path.join(dir, f)), `${f} missing in ${dir}`);
      const rep = JSON.parse(fs.readFileSync(path.join(dir, 'student.json'), 'utf8'));
      assert(
        rep.paramsAfter === manifestParams(path.join(dir, 'model.json')),
        `student.json says ${rep.paramsAfter} parameters, its model.json has ${manifestParams(path.join(dir, 'model.json'))}`,
      );
      await page.screenshot({ path: path.join(SHOTS, '12-whatif-export-student.png') });
    },
  );

  await check(
    'Open Analysis in Editor (the side panel title button): the same view, wider than 800 px, in step with the side panel',
    async () => {
      await clearNotifications(page);
      await runFromPalette(page, 'PruneScope: Show Relevance Panel', 30000);
      const button = page.locator('.pane-header .action-label[aria-label*="Open Analysis in Editor"]').first();
      await button.waitFor({ timeout: 30000 });
      await button.click();
      await page.locator('.tab.active', { hasText: 'PruneScope: wine.json' }).first().waitFor({ timeout: 30000 });
      const titled = (name) => async (f) =>
        (await f.locator('#title').innerText()) === name && (await f.locator('#curves .main-svg').count()) > 0;
      const { frame: editor, iframe: editorIframe } = await analysisFrameWhere(
        page,
        'editor',
        titled('wine.json'),
        60000,
      );
      const { frame: side } = await analysisFrameWhere(page, 'side', titled('wine.json'), 60000);
      // The curves' plot spans the editor's width (the side bar squeezes it to ~300 px).
      const wide = await editor.locator('#curves .main-svg').first().boundingBox();
      const narrow = await side.locator('#curves .main-svg').first().boundingBox();
      log(`analysis in editor: curves ${Math.round(wide.width)} px wide (side panel ${Math.round(narrow.width)} px)`);
      assert(wide.width > 800, `the curves are ${wide.width} px wide in the editor panel`);
      assert((await editor.locator('#summary tbody tr').count()) === 2, 'the editor panel shows the layer summary');
      await page.waitForTimeout(500);
      await page.screenshot({ path: path.join(SHOTS, '26-analysis-in-editor.png') });
      await editorIframe.screenshot({ path: path.join(SHOTS, '27-analysis-in-editor-webview.png') });
      // Same protocol, both views: the gradient-variance ordering reaches the editor panel too.
      await runFromPalette(page, 'PruneScope: Order Parameters by Gradient Variance...');
      await quickPickTitle(page, 'choose a model');
      await choose(page, 'wine.json');
      await quickPickTitle(page, 'gradient-variance estimator');
      await choose(page, 'essay');
      await quickPickTitle(page, 'data for wine.json');
      await choose(page, 'wine');
      for (const [where, name] of [
        ['editor', 'editor panel'],
        ['side', 'side panel'],
      ])
        await analysisFrameWhere(
          page,
          where,
          async (f) =>
            (await f.locator('#gv-title').innerText()).includes('wine.json') &&
            (await f.locator('#gv-figures .main-svg').count()) > 0 &&
            (await f.locator('#gv-timeline .main-svg').count()) > 0,
          120000,
        ).catch((e) => {
          throw new Error(`${name}: ${e.message}`);
        });
      await page.screenshot({ path: path.join(SHOTS, '28-ordering-in-both-views.png') });
    },
  );
  // Close the editor panel, even when the check above failed: a focused webview keeps F1 to itself.
  // By the tab's close button: clicking the tab would give the webview the focus again.
  const editorTab = page.locator('.tab', { hasText: 'PruneScope: wine.json' }).first();
  if (await editorTab.count().catch(() => 0)) {
    await editorTab.hover().catch(() => {});
    await editorTab
      .locator('.tab-actions .action-label')
      .first()
      .click()
      .catch((e) => log(`could not close the editor panel: ${e.message.split('\n')[0]}`));
  }

  await check(
    'Prune Model...: a new model file with the chosen share of exact zeros among the kernel weights',
    async () => {
      await clearNotifications(page);
      await runFromPalette(page, 'PruneScope: Prune Model...');
      await quickPickTitle(page, 'choose a model');
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
      await page.screenshot({ path: path.join(SHOTS, '13-prune.png') });
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
    },
  );

  await check(
    'explorer: Export Student Architecture... on wine.json (widths 3) writes a smaller student beside the model',
    async () => {
      await clearNotifications(page);
      await explorerCommand(page, 'wine.json', 'Export Student Architecture...');
      await answerPrompts(
        page,
        (st) => {
          if (/relevance method/.test(st.title)) return 'obd';
          if (/size of the student/.test(st.title)) return 'Give the hidden widths';
          if (/hidden widths/.test(st.title)) return '3';
          if (/data for wine\.json/.test(st.title)) return 'wine';
          return null;
        },
        async () =>
          (await toast(page, /student [\d-]+ -> [\d-]+:/).count()) > 0 ||
          (await toast(page, 'Exporting a student').count()) > 0,
      );
      const done = toast(page, /student [\d-]+ -> [\d-]+: \d+ -> \d+ parameters/);
      await done.first().waitFor({ timeout: 120000 });
      const text = await done.first().innerText();
      const folder = /in (wine\/wine-student-obd-3(?:-\d+)?)\./.exec(text);
      assert(folder, `unexpected student folder in: ${text}`);
      const dir = path.join(WS, folder[1]);
      assert(path.dirname(dir) === path.join(WS, 'wine'), `student not beside the model: ${dir}`);
      const teacherJson = path.join(WS, 'wine', 'wine.json');
      const studentJson = path.join(dir, 'model.json');
      const rep = JSON.parse(fs.readFileSync(path.join(dir, 'student.json'), 'utf8'));
      const tParams = manifestParams(teacherJson),
        sParams = manifestParams(studentJson);
      // 13-6-3 teacher: 13*6+6 + 6*3+3 = 105; the 13-3-3 student: 13*3+3 + 3*3+3 = 54.
      assert(
        tParams === 105 && rep.paramsBefore === tParams,
        `teacher parameters: manifest ${tParams}, student.json ${rep.paramsBefore}`,
      );
      assert(
        sParams === 54 && rep.paramsAfter === sParams,
        `student parameters: manifest ${sParams}, student.json ${rep.paramsAfter}`,
      );
      assert(rep.paramsAfter < rep.paramsBefore, 'the student is not smaller');
      assert(JSON.stringify(rep.widthsAfter) === '[3,3]', `widths after: ${JSON.stringify(rep.widthsAfter)}`);
      const tBytes = shardBytes(teacherJson),
        sBytes = shardBytes(studentJson);
      assert(sBytes === 4 * sParams, `student shard ${sBytes} bytes, expected 4 x ${sParams}`);
      assert(tBytes === 4 * tParams && sBytes < tBytes, `shards: teacher ${tBytes}, student ${sBytes} bytes`);
      assert(/"units"\s*:\s*3\b/.test(fs.readFileSync(studentJson, 'utf8')), 'student model.json has no 3-unit layer');
      // Export opens student.json in an editor.
      await page.locator('.tab.active', { hasText: 'student.json' }).first().waitFor({ timeout: 15000 });
      log(
        `export student: ${rep.widthsBefore.join('-')} -> ${rep.widthsAfter.join('-')}, ${tParams} -> ${sParams} parameters, shard ${tBytes} -> ${sBytes} bytes`,
      );
      await page.screenshot({ path: path.join(SHOTS, '14-export-student.png') });
    },
  );

  let distillDir;
  await check(
    'explorer: Distill into Student... (widths 3, defaults accepted, few epochs) writes distill.json with finite metrics',
    async () => {
      await clearNotifications(page);
      await explorerCommand(page, 'wine.json', 'Distill into Student...');
      const prompts = await answerPrompts(
        page,
        (st) => {
          const all = `${st.title} ${st.message} ${st.placeholder}`;
          if (st.isPick && /student/.test(st.title)) return 'Target widths...';
          if (/hidden widths/.test(all)) return '3';
          if (st.isPick && /data for wine\.json/.test(st.title)) return 'wine';
          if (!st.isPick && /epoch/i.test(all)) return '5';
          return null; // temperature, alpha and anything new: the pre-filled default
        },
        async () => (await toast(page, /distilled \(/).count()) > 0 || (await toast(page, 'Distilling').count()) > 0,
      );
      log(`distill prompts: ${prompts.join('; ')}`);
      const done = toast(page, /distilled \(/);
      await done.first().waitFor({ timeout: 300000 });
      const text = await done.first().innerText();
      distillDir = newestDir(path.join(WS, 'wine'), /^wine-distilled-3(-\d+)?$/);
      assert(distillDir, 'no wine/wine-distilled-3 folder');
      const doc = JSON.parse(fs.readFileSync(path.join(distillDir, 'distill.json'), 'utf8'));
      const names = doc.rows.map((r) => r.name);
      const base = doc.rows.find((r) => r.name === 'labels-only');
      const students = doc.rows.filter((r) => /^distilled/.test(r.name));
      assert(base && students.length > 0, `rows: ${names.join(', ')}`);
      for (const r of [base, ...students]) {
        assert(
          Number.isFinite(r.metricMean) && Number.isFinite(r.metricSd),
          `${r.name}: mean ${r.metricMean}, sd ${r.metricSd}`,
        );
        assert(
          r.runs.length > 0 && r.runs.every((x) => Number.isFinite(x.metric) && Number.isFinite(x.loss)),
          `${r.name}: non-finite run`,
        );
        // Accuracy on wine's test split: a share; the mean is the mean of the runs.
        assert(r.metricMean >= 0 && r.metricMean <= 1, `${r.name}: accuracy ${r.metricMean}`);
        const mean = r.runs.reduce((a, x) => a + x.metric, 0) / r.runs.length;
        assert(
          Math.abs(mean - r.metricMean) < 1e-9,
          `${r.name}: mean ${r.metricMean} is not the mean of its runs (${mean})`,
        );
      }
      assert(JSON.stringify(doc.studentSpec) === '[13,3,3]', `student spec ${JSON.stringify(doc.studentSpec)}`);
      const epochsAsked = prompts.some((p) => /epoch/i.test(p));
      const epochs = doc.provenance && doc.provenance.options && doc.provenance.options.epochs;
      if (epochsAsked) assert(epochs === 5, `asked for 5 epochs, provenance says ${epochs}`);
      assert(text.includes('labels-only'), `notification lacks the baseline: ${text}`);
      log(
        `distill (${epochs} epochs${epochsAsked ? ', from the prompt' : ', no prompt yet'}): ${[base, ...students].map((r) => `${r.name} ${r.metricMean.toFixed(3)}`).join(', ')}`,
      );
      await page.screenshot({ path: path.join(SHOTS, '15-distill.png') });
    },
  );

  await check(
    "report: the distillation's report.html is self-contained (plotly inline, no remote scripts) with its sections",
    async () => {
      assert(distillDir, 'no distill output to read (the distill check failed)');
      const file = path.join(distillDir, 'report.html');
      assert(fs.existsSync(file), `${file} missing`);
      const html = fs.readFileSync(file, 'utf8');
      const doc = JSON.parse(fs.readFileSync(path.join(distillDir, 'distill.json'), 'utf8'));
      assert(/^<!DOCTYPE html>/i.test(html), 'not an HTML document');
      assert(!/<script[^>]*\ssrc\s*=/i.test(html), 'a <script src=...> (the report must not load scripts)');
      assert(
        !/<link[^>]+href\s*=\s*["']?https?:/i.test(html) && !/\ssrc\s*=\s*["']?https?:/i.test(html),
        'a remote resource',
      );
      // plotly's bundle inline: an inline <script> of megabytes that defines the global Plotly (UMD
      // wrapper, minified or not) with newPlot, and the figures drawn by Plotly.newPlot after it.
      const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
      const bundle = scripts.find(
        (t) => t.length > 1e6 && /\["Plotly"\]|\.Plotly\s*=/.test(t.slice(0, 5000)) && /newPlot/.test(t),
      );
      assert(bundle, `plotly not inlined (inline scripts: ${scripts.map((t) => t.length).join(', ')} chars)`);
      assert(/Plotly\.newPlot\(/.test(scripts[scripts.length - 1]), 'the last script does not draw the figures');
      for (const want of ['<h1>Distillation on wine</h1>', '<h2>Test accuracy</h2>', '<h2>How this was made</h2>'])
        assert(html.includes(want), `missing ${want}`);
      // The figure's bars are the rows of distill.json.
      const figs = JSON.parse(/const FIGS=(.*);\n/.exec(html)[1]);
      const bars = figs[0].data[0];
      assert(JSON.stringify(bars.x) === JSON.stringify(doc.rows.map((r) => r.name)), `bars ${JSON.stringify(bars.x)}`);
      bars.y.forEach((y, i) =>
        assert(Math.abs(y - doc.rows[i].metricMean) < 1e-12, `bar ${bars.x[i]}: ${y} vs ${doc.rows[i].metricMean}`),
      );
      log(`report: ${(html.length / 1e6).toFixed(1)} MB, ${figs.length} figure(s), bars ${bars.x.join(', ')}`);
    },
  );

  await check('palette: New Analysis Notebook (no files needed) runs and its cells draw plotly outputs', async () => {
    await clearNotifications(page);
    await runFromPalette(page, 'PruneScope: New Analysis Notebook');
    // Cell 0 trains the model into a new workspace folder; its output names the file.
    const found = await notebookFrame(
      page,
      (body) => /trained 13-6-3 in [\d.]+ s: .*prunescope-wine-example/.test(body),
      180000,
    );
    assert(found, 'no notebook output from training the example model');
    // The relevance and Belsley cells draw figures. Outputs below the fold are rendered only when
    // scrolled into view: wheel down over the notebook until two charts are drawn.
    const end = Date.now() + 120000;
    const box = await page.locator('.editor-group-container.active .editor-container').first().boundingBox();
    while ((await found.locator('.prunescope-figure .main-svg').count()) < 2 && Date.now() < end) {
      if (box) {
        await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await page.mouse.wheel(0, 400);
      }
      await page.waitForTimeout(500);
    }
    const n = await found.locator('.prunescope-figure .main-svg').count();
    assert(n >= 2, `expected at least 2 plotly outputs, got ${n}`);
    assert(
      fs.existsSync(path.join(WS, 'prunescope-wine-example', 'model.json')),
      'example model not created in the workspace',
    );
    await page.waitForTimeout(500);
    await page.screenshot({ path: path.join(SHOTS, '16-new-notebook.png') });
  });

  await check('cancel of a long job clears the progress notification and the status bar item', async () => {
    await clearNotifications(page);
    await runFromPalette(page, 'PruneScope: Run Engine Self-Test');
    const progress = page.locator('.notifications-toasts .notification-toast', { hasText: /step \d+ of 60/ });
    await progress.first().waitFor({ timeout: 30000 });
    const status = page.locator('.statusbar-item', { hasText: 'PruneScope: Engine self-test' });
    await status.first().waitFor({ timeout: 10000 });
    await page.screenshot({ path: path.join(SHOTS, '17-long-job-progress.png') });
    // "Cancel Running Job" is only in the palette while a job runs (when clause).
    await runFromPalette(page, 'PruneScope: Cancel Running Job', 20000);
    await toast(page, 'Engine self-test cancelled.').waitFor({ timeout: 15000 });
    await progress.first().waitFor({ state: 'detached', timeout: 15000 });
    await status
      .first()
      .waitFor({ state: 'detached', timeout: 10000 })
      .catch(async () => {
        assert(!(await status.first().isVisible()), 'status bar item still visible after cancel');
      });
    await page.screenshot({ path: path.join(SHOTS, '18-after-cancel.png') });
  });

  await check(
    'notebook: a *.prune.ipynb cell runs in the worker and its plotly output is drawn by our renderer',
    async () => {
      await clearNotifications(page);
      await quickOpen(page, 'analysis.prune.ipynb');
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
      await page.screenshot({ path: path.join(SHOTS, '19-notebook.png') });
    },
  );

  await check(
    'notebook interrupt: a long training cell stops within seconds of the stop button, writes nothing, and a short cell runs after it',
    async () => {
      await clearNotifications(page);
      await quickOpen(page, 'interrupt.prune.ipynb');
      await page.locator('.tab.active', { hasText: 'interrupt.prune.ipynb' }).first().waitFor({ timeout: 30000 });
      const cells = page.locator('.notebookOverlay:visible .code-cell-row');
      await cells.nth(2).waitFor({ timeout: 15000 });
      // The cell's own run button (keyboard shortcuts differ between code-server and desktop).
      const runCell = async (i) => {
        await cells.nth(i).hover();
        await cells.nth(i).locator('.run-button-container .action-label').first().click();
      };
      // The notebook toolbar's Run All turns into the stop button ("Interrupt" / "Stop Execution").
      const toolbar = page.locator('.notebookOverlay:visible .notebook-toolbar-container').first();
      const interrupt = toolbar.getByText(/^(Interrupt|Stop Execution)$/);
      await runCell(0);
      assert(await notebookFrame(page, (b) => b.includes('kept is a number'), 60000), 'the first cell did not run');
      await runCell(1);
      await interrupt
        .first()
        .waitFor({ timeout: 20000 })
        .catch(async (e) => {
          throw new Error(
            `${e.message.split('\n')[0]}; toolbar: ${(await toolbar.innerHTML().catch(() => '')).slice(0, 4000)}`,
          );
        });
      // The worker loads the data and enters the training loop: wait until the cell has run for a
      // second, so the interrupt lands inside the loop rather than before it.
      await page.waitForTimeout(1500);
      assert(await interrupt.first().isVisible(), 'the long cell finished by itself');
      await page.screenshot({ path: path.join(SHOTS, '20-notebook-running.png') });
      const t = Date.now();
      await interrupt.first().click();
      await interrupt.first().waitFor({ state: 'hidden', timeout: 15000 });
      const ms = Date.now() - t;
      assert(ms < 5000, `the cell took ${ms} ms to end after the interrupt`);
      assert(
        await notebookFrame(page, (b) => /cancel/i.test(b) && b.includes('kept is a number'), 15000),
        'no "cancelled" output under the interrupted cell',
      );
      assert(!fs.existsSync(path.join(WS, 'interrupt-never-written')), 'the interrupted training wrote its model');
      await runCell(2);
      const after = await notebookFrame(page, (b) => /short cell ran 42 kept is \w+/.test(b), 30000);
      assert(after, 'the short cell after the interrupt did not show its output');
      const kept = /short cell ran 42 kept is (\w+)/.exec(await after.locator('body').innerText())[1];
      log(`interrupt: the cell ended ${ms} ms after the click; afterwards a cell sees kept as ${kept}`);
      await page.screenshot({ path: path.join(SHOTS, '21-notebook-interrupted.png') });
      // Restart Notebook Kernel (when the command exists): state defined before is gone after it.
      // The installed extension's manifest (the working tree's may be newer than the .vsix).
      const pkg = JSON.parse(fs.readFileSync(installedManifest(), 'utf8'));
      const restart = pkg.contributes.commands.find((c) => /Restart Notebook Kernel/i.test(c.title));
      if (!restart) {
        log('interrupt: no "Restart Notebook Kernel" command in package.json yet: restart part skipped');
        return;
      }
      await runCell(0);
      await runCell(2);
      assert(
        await notebookFrame(page, (b) => b.includes('short cell ran 42 kept is number'), 30000),
        'a global defined by a cell is not visible to the next cell',
      );
      await runFromPalette(page, `${restart.category ? restart.category + ': ' : ''}${restart.title}`, 20000);
      await page.waitForTimeout(500);
      await runCell(2);
      assert(
        await notebookFrame(page, (b) => b.includes('short cell ran 42 kept is undefined'), 30000),
        'after Restart Notebook Kernel the old global is still defined',
      );
      log('interrupt: Restart Notebook Kernel cleared the global');
    },
  );

  await check(
    'a worker crash is reported with its reason and last log lines; Restart Engine brings up a fresh one',
    async () => {
      await clearNotifications(page);
      await quickOpen(page, 'crash.prune.ipynb');
      await page.locator('.tab.active', { hasText: 'crash.prune.ipynb' }).first().waitFor({ timeout: 30000 });
      await page.waitForTimeout(1000);
      await runFromPalette(page, 'Notebook: Run All', 30000);
      const crash = toast(page, 'the engine worker exited with code 3');
      await crash.first().waitFor({ timeout: 30000 });
      const text = await crash.first().innerText();
      assert(text.includes('e2e: about to crash the worker'), `crash message lacks the log tail: ${text}`);
      await page.screenshot({ path: path.join(SHOTS, '22-worker-crash.png') });
      await clearNotifications(page);
      await runFromPalette(page, 'PruneScope: Restart Engine');
      await toast(page, /engine restarted \(pid \d+\)/)
        .first()
        .waitFor({ timeout: 30000 });
    },
  );

  // Every engineer's checks (test/e2e/checks/*.js, in name order; see this file's header).
  const checkContext = {
    page,
    workspace: WS,
    shots: SHOTS,
    screenshot: (name) => page.screenshot({ path: path.join(SHOTS, `${name}.png`) }),
    log,
    assert,
    helpers: {
      runFromPalette,
      toast,
      explorerRow,
      contextMenuLabels,
      showExplorer,
      explorerCommand,
      quickOpen,
      quickPickTitle,
      choose,
      quickInputState,
      answerPrompts,
      clearNotifications,
      analysisFrameWhere,
      panelFrameWhere,
      notebookFrame,
      kernelZeros,
      manifestParams,
      shardBytes,
      listFiles,
      newestDir,
      installedManifest,
    },
  };
  for (const m of loadCheckModules(path.join(__dirname, 'checks'))) {
    if (only && !only.test(m.file)) continue;
    await check(
      m.title,
      async () => {
        if (m.error) throw new Error(m.error);
        await clearNotifications(page);
        await m.run(checkContext);
      },
      { fromModule: true },
    );
  }

  // Restricted Mode (issue #7): a second window on a server whose workspace is not trusted.
  const rpage = await ctx.newPage();
  rpage.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) consoleErrors.push(m.text());
  });
  const WS2 = process.env.WS2;
  let before2 = [];
  await check(
    'restricted mode: Analyze Model... still describes the model (layers, parameters); the notebook does not run',
    async () => {
      active = rpage;
      await rpage.goto(process.env.CS_URL2);
      await rpage.waitForSelector('.monaco-workbench', { timeout: 90000 });
      await explorerRow(rpage, 'model.json').waitFor({ timeout: 60000 });
      // The window really is untrusted: VS Code shows Restricted Mode in the status bar.
      await rpage.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 30000 });
      before2 = listFiles(WS2);
      await runFromPalette(rpage, 'PruneScope: Analyze Model...');
      await quickPickTitle(rpage, 'choose a model');
      await choose(rpage, 'model.json');
      await toast(rpage, 'model.json has 2 layers and 67 parameters').waitFor({ timeout: 60000 });
      await quickPickTitle(rpage, 'data for model.json');
      await choose(rpage, 'iris');
      await toast(rpage, 'runs its cells only in a trusted workspace').first().waitFor({ timeout: 30000 });
      // The panel shows the model's description (read only) too.
      await panelFrameWhere(
        rpage,
        async (f) =>
          (await f.locator('#title').innerText()) === 'model.json' &&
          (await f.locator('#subtitle').innerText()).includes('2 layers, 67 parameters'),
        60000, // a fresh webview loads its 4 MB script first (slow on a busy machine)
      );
      await rpage.screenshot({ path: path.join(SHOTS, '23-restricted-analyze.png') });
    },
  );

  await check(
    'restricted mode: Prune Model... and running a notebook cell say they need a trusted workspace and write nothing',
    async () => {
      active = rpage;
      await clearNotifications(rpage);
      await runFromPalette(rpage, 'PruneScope: Prune Model...');
      await toast(rpage, 'Prune Model needs a trusted workspace').first().waitFor({ timeout: 30000 });
      assert(
        !(await rpage
          .locator('.quick-input-widget .quick-input-title', { hasText: 'choose a model' })
          .isVisible()),
        'Prune Model asked for a model anyway',
      );
      await rpage.screenshot({ path: path.join(SHOTS, '24-restricted-prune.png') });
      await clearNotifications(rpage);
      await quickOpen(rpage, 'analysis.prune.ipynb');
      await rpage.locator('.tab.active', { hasText: 'analysis.prune.ipynb' }).first().waitFor({ timeout: 30000 });
      await rpage.waitForTimeout(1000);
      await runFromPalette(rpage, 'Notebook: Run All', 30000);
      // VS Code asks for trust before any kernel sees the cell; Cancel keeps the folder untrusted.
      // (Should a kernel be reached anyway, ours answers with its own "trusted workspace" output.)
      const dialog = rpage.locator('.monaco-dialog-box', {
        hasText: 'Executing a notebook cell will run code from this workspace',
      });
      const ours = () => notebookFrame(rpage, (b) => b.includes('runs notebook code only in a trusted workspace'), 500);
      const end = Date.now() + 30000;
      let how;
      while (!how && Date.now() < end) {
        if (
          await dialog
            .first()
            .isVisible()
            .catch(() => false)
        )
          how = 'dialog';
        else if (await ours()) how = 'kernel';
        else await rpage.waitForTimeout(300);
      }
      assert(how, 'running a cell in Restricted Mode said nothing about trust');
      await rpage.screenshot({ path: path.join(SHOTS, '25-restricted-notebook.png') });
      if (how === 'dialog') {
        await dialog.first().locator('.monaco-button', { hasText: 'Cancel' }).first().click();
        await dialog.first().waitFor({ state: 'detached', timeout: 10000 });
      }
      await rpage.locator('.statusbar-item', { hasText: 'Restricted Mode' }).first().waitFor({ timeout: 10000 });
      assert(!(await notebookFrame(rpage, (b) => b.includes('params=67'), 3000)), 'the cell ran in Restricted Mode');
      log(
        `restricted: running a cell was stopped by ${how === 'dialog' ? "VS Code's trust dialog (cancelled)" : "the kernel's message"}`,
      );
      const after = listFiles(WS2);
      assert(
        JSON.stringify(after) === JSON.stringify(before2),
        `files changed in the untrusted workspace: ${after.filter((f) => !before2.includes(f)).join(', ')}`,
      );
    },
  );
  active = page;

  await check('the webviews raised no CSP or PruneScope console errors', async () => {
    assert(consoleErrors.length === 0, consoleErrors.slice(0, 3).join(' | '));
  });

  await ctx.close().catch(() => {});
  fs.rmSync(udd, { recursive: true, force: true });
  const passed = results.filter((r) => r[1]).length;
  const failed = results.length - passed;
  if (skipped) log(`E2E_ONLY=${process.env.E2E_ONLY}: ${skipped} built-in checks skipped`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  console.error('driver crashed:', e.message);
  console.log('0 passed, 1 failed');
  process.exit(1);
});
