// ESLint (flat config): typescript-eslint's recommended rules, import cycles, and the boundaries
// between the rooms of the house (CONTRIBUTING.md). Boundaries are written per folder, so files
// added later (src/engine/layers/, src/engine/formats/, ...) are covered without listing them.
// Formatting is Prettier's (`prettier --check .` in `npm run lint`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import globals from 'globals';

/**
 * no-restricted-imports: relative imports that climb out of the folder (`../`, `../../`, ...) into
 * one of `rooms` (a top-level folder of src/). `except`: modules of those rooms still allowed.
 */
const restrict = (message, rooms, { except = [], packages = ['vscode'] } = {}) => {
  const allowed = except.length ? `(?!(${except.join('|')})$)` : '';
  return [
    'error',
    {
      paths: packages.map((name) => ({ name, message })),
      patterns: [{ regex: `^(\\.\\./)+${allowed}(${rooms.join('|')})(/.*)?$`, message }],
    },
  ];
};

export default tseslint.config(
  {
    ignores: [
      'build/**',
      'dist/**',
      'out/**',
      'scratch/**',
      'node_modules/**',
      '.vscode-test/**',
      'test/e2e/artifacts/**',
      '**/*.generated.ts',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    plugins: { 'import-x': importX },
    settings: {
      // Parse .ts dependencies too (no-cycle follows them), resolving extensionless imports.
      'import-x/extensions': ['.ts', '.js', '.mjs', '.cjs'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver({ extensions: ['.ts', '.js', '.mjs', '.json'] })],
    },
    languageOptions: { globals: { ...globals.node } },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // Prettier wraps code at 120; this catches what it cannot wrap (comments, long literals).
      'max-len': [
        'error',
        { code: 120, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      'no-var': 'error',
      'prefer-const': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['src/webview/**', 'src/renderer/**', 'media/**/*.js'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['test/e2e/**'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },
  // ---- Boundaries ----
  {
    files: ['src/engine/**'],
    rules: {
      'no-restricted-imports': restrict(
        'src/engine runs in the worker process and the CLI: it imports nothing from the worker, the extension, the CLI, the webviews or vscode.',
        ['worker', 'extension', 'cli', 'webview', 'renderer', 'protocol'],
      ),
    },
  },
  {
    files: ['src/worker/**'],
    rules: {
      'no-restricted-imports': restrict(
        'src/worker runs engine jobs: it imports the engine and the protocol, nothing from the CLI, the extension or the webviews.',
        ['cli', 'extension', 'webview', 'renderer'],
      ),
    },
  },
  {
    files: ['src/cli/**'],
    rules: {
      'no-restricted-imports': restrict(
        'src/cli is the command line over the engine: nothing from the worker, the extension or the webviews.',
        ['worker', 'extension', 'webview', 'renderer'],
      ),
    },
  },
  {
    files: ['src/protocol/**'],
    rules: {
      'no-restricted-imports': restrict(
        'src/protocol is shared by host, worker and webviews: of the engine only options.ts (enums and defaults), nothing of the other rooms.',
        ['engine', 'worker', 'extension', 'cli', 'webview', 'renderer'],
        { except: ['engine/options'] },
      ),
    },
  },
  {
    files: ['src/extension/**'],
    rules: {
      'no-restricted-imports': restrict(
        'src/extension orchestrates and displays: the engine runs in the worker (of the engine only options.ts), and the webviews are built separately.',
        ['engine', 'worker', 'cli', 'webview', 'renderer'],
        { except: ['engine/options'], packages: [] },
      ),
    },
  },
  {
    files: ['src/webview/**', 'src/renderer/**'],
    rules: {
      'no-restricted-imports': restrict(
        "Webview code runs in the browser: it imports the protocol (and the engine's options.ts), nothing that runs in Node.",
        ['engine', 'worker', 'extension', 'cli'],
        { except: ['engine/options'] },
      ),
    },
  },
);
