// package.json `contributes` declarations the extension relies on (declaration checks against the
// source, not behaviour): the notebook opens without an editor pick, the restart-kernel command is
// declared where the controller registers it, every setting's enum, default and range is the
// engine's (engine/options.ts) and the prompts' rules.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import {
  DEFAULT_SETTINGS,
  DISTILL_DEFAULTS,
  DISTILL_RULES,
  SETTING_RANGES,
  readSettings,
} from '../../src/extension/args';
import {
  BELSLEY_BLOCK_LIMIT_RANGE,
  CURVE_DEFAULTS,
  DISTILL_DEFAULTS as ENGINE_DISTILL,
  DISTILL_RANGES,
  OBD_VARIANTS,
  OBD_VARIANT_DESCRIPTIONS,
  PANEL_CURVE_STEP_RANGE,
  RELEVANCE_DEFAULTS,
  RELEVANCE_METHODS,
  RELEVANCE_METHOD_DESCRIPTIONS,
  type NumberRange,
} from '../../src/engine/options';

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
  // extension.ts wires each command id to its module (COMMANDS); the notebook controller registers its own.
  const wiring = src('extension.ts');
  const registered = new Set([...wiring.matchAll(/\['(prunescope\.[A-Za-z]+)', [A-Za-z]+\]/g)].map((m) => m[1]));
  for (const m of src('notebook/controller.ts').matchAll(/_COMMAND = '(prunescope\.[A-Za-z]+)'/g)) registered.add(m[1]);
  // Each wired function is a command module's export.
  for (const m of wiring.matchAll(/import \{ (\w+) \} from '\.\/commands\/(\w+)'/g))
    assert.match(src(`commands/${m[2]}.ts`), new RegExp(`export (async )?function ${m[1]}\\(`), m[1]);
  assert.deepEqual([...declared].sort(), [...registered].sort());
});

test("prunescope.distill.* settings: the engine's defaults and ranges, which the prompts enforce", () => {
  const p = c.configuration.properties;
  for (const k of ['temperature', 'alpha', 'epochs'] as const) {
    const s = p[`prunescope.distill.${k}`];
    assert.ok(s, k);
    assert.equal(s.default, ENGINE_DISTILL[k], `${k} default`);
    assert.equal(DISTILL_DEFAULTS[k], ENGINE_DISTILL[k], `${k}: the prompt's default`);
    assert.ok(typeof s.markdownDescription === 'string' && s.markdownDescription.length > 20, `${k} described`);
    assertRange(`prunescope.distill.${k}`, DISTILL_RANGES[k]);
    assert.deepEqual({ ...DISTILL_RULES[k], name: undefined }, { ...DISTILL_RANGES[k], name: undefined });
  }
});

/** A numeric setting's declared range is `r`. */
function assertRange(key: string, r: NumberRange): void {
  const s = c.configuration.properties[key];
  assert.equal(r.minExclusive ? s.exclusiveMinimum : s.minimum, r.min, `${key} minimum`);
  assert.equal(s.maximum, r.max, `${key} maximum`);
  assert.equal(s.type, r.integer ? 'integer' : 'number', `${key} type`);
}

test("enum settings: the engine's methods and OBD variants, its defaults, its descriptions", () => {
  const p = c.configuration.properties;
  const m = p['prunescope.defaultMethod'];
  assert.deepEqual(m.enum, [...RELEVANCE_METHODS]);
  assert.equal(m.default, RELEVANCE_DEFAULTS.method);
  assert.deepEqual(
    m.enumDescriptions,
    RELEVANCE_METHODS.map((x) => RELEVANCE_METHOD_DESCRIPTIONS[x]),
  );
  const v = p['prunescope.defaultVariant'];
  assert.deepEqual(v.enum, [...OBD_VARIANTS]);
  assert.equal(v.default, RELEVANCE_DEFAULTS.variant);
  assert.deepEqual(
    v.enumDescriptions,
    OBD_VARIANTS.map((x) => OBD_VARIANT_DESCRIPTIONS[x]),
  );
  // What the extension falls back to for a bad value is the same default.
  assert.equal(DEFAULT_SETTINGS.defaultMethod, m.default);
  assert.equal(DEFAULT_SETTINGS.defaultVariant, v.default);
  assert.deepEqual(
    readSettings(() => 'nonsense'),
    DEFAULT_SETTINGS,
  );
});

test("numeric settings: the engine's defaults and ranges (Belsley block limit, seeds, curve step)", () => {
  const p = c.configuration.properties;
  assert.equal(p['prunescope.belsleyBlockLimit'].default, RELEVANCE_DEFAULTS.blockLimit);
  assertRange('prunescope.belsleyBlockLimit', BELSLEY_BLOCK_LIMIT_RANGE);
  assert.equal(p['prunescope.seeds'].default, ENGINE_DISTILL.seeds);
  assertRange('prunescope.seeds', DISTILL_RANGES.seeds);
  assert.equal(p['prunescope.curveStep'].default, CURVE_DEFAULTS.panelStep);
  assertRange('prunescope.curveStep', PANEL_CURVE_STEP_RANGE);
  for (const k of ['belsleyBlockLimit', 'seeds', 'curveStep'] as const) {
    assert.equal(DEFAULT_SETTINGS[k], p[`prunescope.${k}`].default, k);
    assert.equal(SETTING_RANGES[k].max, p[`prunescope.${k}`].maximum, k);
  }
});

test('activation: the contributed commands, views and notebook, and workspaces holding a model-looking file only', () => {
  const events: string[] = pkg.activationEvents;
  // VS Code >= 1.74 generates onCommand/onView/onNotebookSerializer from `contributes`: listing
  // them again is redundant, and '*' / onStartupFinished would activate in every window.
  const [major, minor] = String(pkg.engines.vscode).replace(/^\^/, '').split('.').map(Number);
  assert.ok(major > 1 || minor >= 74, `engines.vscode ${pkg.engines.vscode} generates implicit activation events`);
  for (const e of events) {
    assert.doesNotMatch(e, /^(\*|onStartupFinished|onCommand:|onView:)/, `${e} is redundant or activates everywhere`);
    assert.match(e, /^(onNotebook:|onWebviewPanel:|workspaceContains:)/, e);
  }
  assert.ok(events.includes(`onNotebook:${c.notebooks[0].type}`), 'opening a PruneScope notebook activates');
  // A PruneScope editor panel left open is restored after a reload (editorPanel.ts's serializer).
  assert.ok(events.includes('onWebviewPanel:prunescope.analysis'));
  assert.match(src('editorPanel.ts'), /EDITOR_VIEW_TYPE = 'prunescope\.analysis'/);
  assert.ok(c.commands.length > 0 && Object.values(c.views).flat().length > 0);

  const patterns = events.filter((e) => e.startsWith('workspaceContains:')).map((e) => e.slice(18));
  const matches = (file: string) => patterns.some((p) => path.matchesGlob(file, p));
  for (const f of ['model.json', 'models/wine/model.json', 'net.keras', 'a/b/weights.h5', 'resnet.onnx'])
    assert.ok(matches(f), `${f} looks like a model`);
  for (const f of ['package.json', 'tsconfig.json', 'src/config.json', '.vscode/settings.json', 'data.csv'])
    assert.ok(!matches(f), `${f} must not activate PruneScope`);
});

test('Open Analysis in Editor: a command in the palette and a button in the side panel title', () => {
  const id = 'prunescope.openAnalysisInEditor';
  const cmd = c.commands.find((x: { command: string }) => x.command === id);
  assert.equal(cmd?.title, 'Open Analysis in Editor');
  assert.equal(cmd?.category, 'PruneScope');
  assert.match(cmd?.icon ?? '', /^\$\([a-z-]+\)$/, 'an icon for the title bar');
  const button = c.menus['view/title'].find((m: { command: string }) => m.command === id);
  assert.equal(button?.when, 'view == prunescope.relevance');
  assert.match(button?.group ?? '', /^navigation/, 'shown as a button, not in the ... menu');
  assert.match(src('panel.ts'), /SIDE_VIEW_ID = 'prunescope\.relevance'/);
});
