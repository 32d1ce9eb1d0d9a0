// Issue #14 in a real VS Code: Prune Model... from the explorer's context menu on an ONNX model made
// by PyTorch (the committed fixture test/fixtures/onnx/mlp-opset13.onnx, on the built-in wine data)
// and on a real Keras 3 `.keras` model (../shared/models/k3_cnn_moonflower.keras beside the
// checkout, on its 64 reference digits written as a labelled CSV), both copied into the TEMPORARY
// e2e workspace at run time, never into the repository. Each pruned model must appear on disk in
// the input's format (read back by its magic bytes and by the installed extension's bundled CLI,
// `info --json`), with the pruned count the notification reported; the inputs stay untouched.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');

const ROOT = path.join(__dirname, '..', '..', '..');
const ONNX_FIXTURE = path.join(ROOT, 'test', 'fixtures', 'onnx', 'mlp-opset13.onnx');
const SHARED = path.resolve(ROOT, '..', 'shared', 'models');
const KERAS = 'k3_cnn_moonflower';

exports.title = 'Prune Model... on an ONNX (PyTorch) and a .keras model writes the pruned model in the same format';

/** x0..x783 of the reference inputs plus the digit labels of the expected outputs as the last column. */
function digitsCsv(target) {
  const lines = fs
    .readFileSync(path.join(SHARED, `${KERAS}.input.csv`), 'utf8')
    .trim()
    .split('\n');
  const { labels } = JSON.parse(fs.readFileSync(path.join(SHARED, `${KERAS}.expected.json`), 'utf8'));
  if (labels.length !== lines.length - 1) throw new Error(`${labels.length} labels for ${lines.length - 1} rows`);
  const rows = [lines[0].trim() + ',label', ...lines.slice(1).map((l, i) => `${l.trim()},${labels[i]}`)];
  fs.writeFileSync(target, rows.join('\n') + '\n');
}

/** The installed extension's bundled CLI (dist/cli.js exports main()) on `args`: its JSON document. */
function bundledCli(installedManifest, args) {
  const cli = path.join(path.dirname(installedManifest()), 'dist', 'cli.js');
  const run =
    'require(process.argv[1]).main(process.argv.slice(2))' +
    '.then((c) => process.stdout.write("", () => process.exit(c)))';
  return JSON.parse(execFileSync(process.execPath, ['-e', run, cli, ...args], { encoding: 'utf8', timeout: 120000 }));
}

/** What the file's bytes say it is: a zip holding a Keras config and weights, or an ONNX protobuf. */
function checkBytes(file, format) {
  const b = fs.readFileSync(file);
  if (format === 'keras') {
    if (b.readUInt32LE(0) !== 0x04034b50)
      throw new Error(`${file} is not a zip (starts ${b.subarray(0, 4).toString('hex')})`);
    for (const entry of ['config.json', 'model.weights.h5'])
      if (!b.includes(Buffer.from(entry))) throw new Error(`${file} has no ${entry} entry`);
  } else {
    // ModelProto: field 1 (ir_version, varint) first as every ONNX writer puts it, and a graph (field 7).
    if (b[0] !== 0x08) throw new Error(`${file} does not start as an ONNX ModelProto (0x${b[0].toString(16)})`);
    if (!b.includes(Buffer.from('Gemm')) && !b.includes(Buffer.from('MatMul')))
      throw new Error(`${file} holds no Gemm or MatMul node`);
  }
}

exports.run = async (ctx) => {
  const { page, workspace, assert, log, screenshot } = ctx;
  const { explorerCommand, answerPrompts, toast, clearNotifications, installedManifest } = ctx.helpers;
  const cases = [];
  const onnx = path.join(workspace, 'pytorch-mlp.onnx');
  fs.copyFileSync(ONNX_FIXTURE, onnx);
  cases.push({ file: onnx, format: 'onnx', data: 'wine' });
  if (fs.existsSync(path.join(SHARED, `${KERAS}.keras`))) {
    const keras = path.join(workspace, 'moonflower.keras');
    fs.copyFileSync(path.join(SHARED, `${KERAS}.keras`), keras);
    digitsCsv(path.join(workspace, 'digits64.csv'));
    cases.push({ file: keras, format: 'keras', data: 'digits64.csv' });
  } else {
    log(`60-formats: ${SHARED} is absent (a checkout without the shared Keras models): the .keras part is skipped`);
  }
  // The explorer notices the new files through its watcher.
  await page.waitForTimeout(1500);

  for (const c of cases) {
    const name = path.basename(c.file);
    const before = fs.readFileSync(c.file);
    const infoBefore = bundledCli(installedManifest, ['info', c.file, '--json']);
    assert(infoBefore.format.type === c.format, `${name} reads as ${infoBefore.format.type}`);
    await clearNotifications(page);
    await explorerCommand(page, name, 'Prune Model...');
    const done = toast(page, /pruned \d+ of \d+ weights into/);
    const prompts = await answerPrompts(
      page,
      (st) => {
        if (/relevance method/.test(st.title)) return 'random';
        if (/share of weights/.test(st.title)) return '50%';
        if (st.isPick && /data for/.test(st.title)) return c.data;
        return null;
      },
      async () => (await done.count()) > 0 || (await toast(page, `Pruning ${name}`).count()) > 0,
    );
    log(`60-formats ${name}: prompts ${prompts.join('; ')}`);
    await done.first().waitFor({ timeout: 240000 });
    const text = await done.first().innerText();
    const m = /pruned (\d+) of (\d+) weights into (\S+) \((\w+)\)/.exec(text);
    assert(m, `unexpected notification: ${text}`);
    const [, pruned, candidates, rel, format] = m;
    assert(format === c.format, `${name}: pruned into ${format}, expected ${c.format}`);
    const out = path.join(workspace, rel);
    assert(fs.existsSync(out), `${out} is not on disk`);
    assert(path.extname(out) === path.extname(name), `${out} does not keep the ${path.extname(name)} extension`);
    assert(path.dirname(path.dirname(out)) === workspace, `${out} is not in a new folder beside ${name}`);
    checkBytes(out, c.format);
    const info = bundledCli(installedManifest, ['info', out, '--json']);
    assert(info.format.type === c.format, `the bundled CLI reads ${out} as ${info.format.type}`);
    assert(
      info.totalParams === infoBefore.totalParams,
      `${info.totalParams} parameters, was ${infoBefore.totalParams}`,
    );
    assert(info.prunedParams === Number(pruned), `info: ${info.prunedParams} pruned, the notification said ${pruned}`);
    assert(
      Math.abs(Number(pruned) - 0.5 * Number(candidates)) <= 1 + infoBefore.prunedParams,
      `${pruned} of ${candidates} is not half`,
    );
    assert(fs.readFileSync(c.file).equals(before), `${name} changed on disk`);
    log(
      `60-formats ${name}: ${pruned} of ${candidates} weights pruned into ${rel} (${format}, ${fs.statSync(out).size} bytes)`,
    );
    await screenshot(`60-formats-prune-${c.format}`);
  }
  await clearNotifications(page);
};
