// package.json `contributes` declarations the extension relies on (declaration checks against the
// source, not behaviour): the notebook opens without an editor pick, the restart-kernel command is
// declared where the controller registers it, the distill settings match the prompts' rules.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { DISTILL_DEFAULTS, DISTILL_RULES } from '../../src/extension/args';

const root = path.join(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const c = pkg.contributes;
const src = (f: string) => fs.readFileSync(path.join(root, 'src/extension', f), 'utf8');

test('*.prune.ipynb opens in the PruneScope notebook editor directly: default priority plus an editor association', () => {
  const nb = c.notebooks.find((n: { type: string }) => n.type === 'prunescope-notebook');
  assert.ok(nb, 'notebook type declared');
  assert.ok(
    src('notebook/controller.ts').includes(`NOTEBOOK_TYPE = '${nb.type}'`),
    'the controller serves the declared type',
  );
  assert.deepEqual(nb.selector, [{ filenamePattern: '*.prune.ipynb' }]);
  assert.equal(nb.priority, 'default');
  // Jupyter's notebook type also matches *.ipynb with default priority: the association decides.
  assert.equal(c.configurationDefaults?.['workbench.editorAssociations']?.['*.prune.ipynb'], nb.type);
});

test('Restart Notebook Kernel: declared, in the notebook toolbar and the palette for PruneScope notebooks only, registered by the controller', () => {
  const id = 'prunescope.restartNotebookKernel';
  const cmd = c.commands.find((x: { command: string }) => x.command === id);
  assert.equal(cmd?.title, 'Restart Notebook Kernel');
  assert.equal(cmd?.category, 'PruneScope');
  const when = 'notebookType == prunescope-notebook';
  assert.ok(
    c.menus['notebook/toolbar'].some((m: { command: string; when: string }) => m.command === id && m.when === when),
  );
  assert.ok(c.menus.commandPalette.some((m: { command: string; when: string }) => m.command === id && m.when === when));
  assert.ok(src('notebook/controller.ts').includes(`RESTART_KERNEL_COMMAND = '${id}'`));
  assert.ok(
    fs.readFileSync(path.join(root, 'README.md'), 'utf8').includes('Restart Notebook Kernel'),
    'README lists it',
  );
});

test('every declared command is registered, and every registered command is declared', () => {
  const declared = new Set<string>(c.commands.map((x: { command: string }) => x.command));
  const all = ['commands.ts', 'notebook/controller.ts'].map(src).join('\n');
  const registered = new Set([...all.matchAll(/reg\('(prunescope\.[A-Za-z]+)'/g)].map((m) => m[1]));
  for (const m of all.matchAll(/_COMMAND = '(prunescope\.[A-Za-z]+)'/g)) registered.add(m[1]);
  assert.deepEqual([...declared].sort(), [...registered].sort());
});

test('prunescope.distill.* settings: defaults and ranges are the ones the prompts enforce', () => {
  const p = c.configuration.properties;
  for (const k of ['temperature', 'alpha', 'epochs'] as const) {
    const s = p[`prunescope.distill.${k}`];
    assert.ok(s, k);
    assert.equal(s.default, DISTILL_DEFAULTS[k], `${k} default`);
    assert.ok(typeof s.markdownDescription === 'string' && s.markdownDescription.length > 20, `${k} described`);
    const r = DISTILL_RULES[k];
    assert.equal(r.minExclusive ? s.exclusiveMinimum : s.minimum, r.min, `${k} minimum`);
    assert.equal(s.maximum, r.max, `${k} maximum`);
    assert.equal(s.type, r.integer ? 'integer' : 'number');
  }
});
