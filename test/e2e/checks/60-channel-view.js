// Issue #13 in a real VS Code: the analysis of a conv model shows its channel view. The shapes
// fixture (conv 3x3 with 4 filters -> Flatten -> Dense 3) is analysed on its image folder; the side
// panel then lists the dependency groups, draws the channel relevance bars and the 4 filters of
// the first convolution, and the channel slider measures the model with half its channels removed.
'use strict';
const fs = require('fs');
const path = require('path');

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'shapes');

exports.title = 'Channel view of a conv model: groups, channel relevance, filters, channel what-if';

exports.run = async (ctx) => {
  const { page, workspace, assert, log, screenshot } = ctx;
  const { runFromPalette, quickOpen, quickPickTitle, choose, analysisFrameWhere } = ctx.helpers;
  const modelDir = path.join(workspace, 'conv-channels');
  fs.cpSync(path.join(FIXTURE, 'images'), path.join(workspace, 'shapes'), { recursive: true });
  fs.cpSync(path.join(FIXTURE, 'model'), modelDir, { recursive: true });
  fs.renameSync(path.join(modelDir, 'shapes-conv.json'), path.join(modelDir, 'channels-conv.json'));

  await quickOpen(page, 'channels-conv.json');
  await page.waitForTimeout(1000);
  await runFromPalette(page, 'PruneScope: Analyze Model...');
  await quickPickTitle(page, 'data for channels-conv.json');
  await choose(page, 'shapes/');

  const { frame } = await analysisFrameWhere(
    page,
    'side',
    async (f) =>
      (await f.locator('#title').innerText()).includes('channels-conv.json') &&
      (await f.locator('#channels').isVisible()) &&
      (await f.locator('#filters canvas').count()) > 0,
    300000,
  );
  const filters = await frame.locator('#filters canvas').count();
  assert(filters === 4, `expected the first convolution's 4 filters, got ${filters}`);
  const groups = await frame.locator('#groups tbody tr').allInnerTexts();
  log(`groups: ${groups.join(' | ')}`);
  assert(groups.length >= 2, `expected at least 2 dependency groups, got ${groups.length}`);
  assert(
    groups.some((g) => /\b4\s+4\b/.test(g)),
    'no group of 4 channels, all removable (the convolution)',
  );
  const bars = await frame.locator('#channel-bars .main-svg').count();
  assert(bars >= 1, 'no channel relevance chart');
  const caption = await frame.locator('#filters-caption').innerText();
  assert(/4 filters of 3 x 3/.test(caption), `filters caption: ${caption}`);

  await frame.locator('#channels-share').evaluate((el) => {
    el.value = '0.5';
    el.dispatchEvent(new Event('input', { bubbles: true }));
  });
  const value = frame.locator('#channels-value');
  await frame.waitForFunction(
    () => /2 of 4 channels removed/.test(document.getElementById('channels-value')?.textContent || ''),
    undefined,
    { timeout: 120000 },
  );
  const text = await value.innerText();
  log(`channel what-if: ${text}`);
  assert(/parameters left \d+ of 631/.test(text), `what-if text: ${text}`);
  await frame.locator('#channels').scrollIntoViewIfNeeded();
  await screenshot('60-channel-view');
  await runFromPalette(page, 'View: Revert and Close Editor', 15000).catch(() => undefined);
  await runFromPalette(page, 'View: Close All Editors', 15000).catch(() => undefined);
};
