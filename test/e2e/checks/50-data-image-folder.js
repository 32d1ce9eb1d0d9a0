// Issue #16 in a real VS Code: a convolutional model is analysed on a folder of class folders of
// PNG images picked in the data picker. The fixture (test/e2e/fixtures/shapes: make.js writes the
// images, makeModel.ts the model) is copied into the workspace; the model is opened in an editor
// and Analyze Model... asks for its data: the picker describes the model's input as images and
// offers the folder with its classes; the side panel then shows the analysis of the model on it.
'use strict';
const fs = require('fs');
const path = require('path');

const FIXTURE = path.join(__dirname, '..', 'fixtures', 'shapes');

exports.title = 'Analyze Model... on a conv model: the data picker offers an image folder, the analysis runs on it';

exports.run = async (ctx) => {
  const { page, workspace, assert, log, screenshot } = ctx;
  const { runFromPalette, toast, quickOpen, quickPickTitle, choose, analysisFrameWhere } = ctx.helpers;
  const images = path.join(workspace, 'shapes');
  const modelDir = path.join(workspace, 'conv');
  fs.cpSync(path.join(FIXTURE, 'images'), images, { recursive: true });
  fs.cpSync(path.join(FIXTURE, 'model'), modelDir, { recursive: true });
  const model = path.join(modelDir, 'shapes-conv.json');
  const before = fs.readFileSync(model);

  await quickOpen(page, 'shapes-conv.json');
  await page.waitForTimeout(1000);
  await runFromPalette(page, 'PruneScope: Analyze Model...');
  // 4*(3*3*1)+4 + 3*(7*7*4)+3 = 631 parameters.
  await toast(page, 'and 631 parameters').waitFor({ timeout: 60000 });
  await quickPickTitle(page, 'data for shapes-conv.json');
  const placeholder = await page.locator('.quick-input-widget input').getAttribute('placeholder');
  log(`data picker placeholder: ${placeholder}`);
  assert(/16 x 16 x 1 images/.test(placeholder || ''), `placeholder does not describe the images: ${placeholder}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'shapes/' }).first();
  await row.waitFor({ timeout: 30000 });
  const text = await row.innerText();
  assert(/3 classes \(bars, columns, cross\), 36 images/.test(text), `folder row reads: ${text}`);
  await screenshot('50-data-image-folder-picker');
  await choose(page, 'shapes/');

  const { frame } = await analysisFrameWhere(
    page,
    'side',
    async (f) =>
      (await f.locator('#title').innerText()).includes('shapes-conv.json') &&
      (await f.locator('#curves .main-svg').count()) > 0,
    240000,
  );
  const subtitle = await frame
    .locator('body')
    .innerText()
    .catch(() => '');
  assert(/on shapes/.test(subtitle), 'the analysis does not name the image folder');
  const curves = await frame.locator('#curves .scatterlayer .trace').count();
  assert(curves >= 4, `expected a curve per method (4), got ${curves}`);
  await screenshot('50-data-image-folder-analysis');
  assert(fs.readFileSync(model).equals(before), 'the model file changed');
  // The analysis notebook and the model's editor: leave the window as it was.
  await runFromPalette(page, 'View: Revert and Close Editor', 15000).catch(() => undefined);
  await runFromPalette(page, 'View: Close All Editors', 15000).catch(() => undefined);
};
