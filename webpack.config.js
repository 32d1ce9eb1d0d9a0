// One config per runtime: extension host (node), worker + CLI (node), side-panel webview (web),
// notebook renderer (web, ES module). ts-loader only transpiles; types are checked by
// `tsc -p .` (node code) and `tsc -p tsconfig.webview.json` (browser code) in `npm run build`.
'use strict';
const path = require('path');
const CopyPlugin = require('copy-webpack-plugin');
const crypto = require('crypto');
const fs = require('fs');
const { minify } = require('terser');

const dist = path.resolve(__dirname, 'dist');
const tsRule = (configFile) => ({
  test: /\.ts$/,
  exclude: /node_modules/,
  use: [{ loader: 'ts-loader', options: { transpileOnly: true, configFile } }],
});
// terser-webpack-plugin is not among our dependencies, so a minimal minimizer over terser:
// mangle + whitespace only, skipping the slow compress pass (plotly.js-dist is a 10 MB prebuilt
// file: 24 s instead of minutes on 2 cores, for nearly the same size).
class MangleMinimizer {
  constructor(esModule = false) {
    this.esModule = esModule;
  }
  // Re-minifying plotly costs ~25 s per bundle; cache by content hash (node_modules/.cache is ignored).
  async minifyCached(src) {
    const dir = path.join(__dirname, 'node_modules', '.cache', 'prunescope-minify');
    const file = path.join(
      dir,
      crypto.createHash('sha256').update(src).update(String(this.esModule)).digest('hex') + '.js',
    );
    if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8');
    const out = await minify(src, {
      compress: false,
      mangle: true,
      module: this.esModule,
      format: { comments: false },
    });
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(file + '.tmp', out.code);
    fs.renameSync(file + '.tmp', file);
    return out.code;
  }
  apply(compiler) {
    const { Compilation, sources } = compiler.webpack;
    compiler.hooks.compilation.tap('MangleMinimizer', (compilation) => {
      compilation.hooks.processAssets.tapPromise(
        { name: 'MangleMinimizer', stage: Compilation.PROCESS_ASSETS_STAGE_OPTIMIZE_SIZE },
        async (assets) => {
          for (const name of Object.keys(assets)) {
            if (!name.endsWith('.js') || compilation.getAsset(name).info.minimized) continue;
            const code = await this.minifyCached(assets[name].source().toString());
            compilation.updateAsset(name, new sources.RawSource(code), { minimized: true });
          }
        },
      );
    });
  }
}
const base = (mode) => ({
  mode,
  devtool: mode === 'production' ? false : 'source-map',
  resolve: { extensions: ['.ts', '.js'] },
  performance: { hints: false },
  cache: { type: 'filesystem', buildDependencies: { config: [__filename] } },
  infrastructureLogging: { level: 'warn' },
});

module.exports = (_env, argv) => {
  const mode = argv.mode || 'production';
  const extension = {
    ...base(mode),
    name: 'extension',
    target: 'node',
    entry: { extension: './src/extension/extension.ts' },
    output: { path: dist, filename: '[name].js', libraryTarget: 'commonjs2' },
    externals: { vscode: 'commonjs vscode' },
    module: { rules: [tsRule('tsconfig.json')] },
    optimization: { minimizer: [new MangleMinimizer()] },
  };
  const engine = {
    ...base(mode),
    name: 'engine',
    target: 'node',
    // h5Worker: the thread that owns h5wasm (formats/hdf5/h5Client.ts starts it from beside the bundle).
    entry: {
      worker: './src/worker/worker.ts',
      cli: './src/cli/main.ts',
      h5Worker: './src/engine/formats/hdf5/h5Worker.ts',
    },
    output: { path: dist, filename: '[name].js', libraryTarget: 'commonjs2' },
    // h5wasm ships only an ES module (exports: import); bundle that build for the require() in h5Worker.
    resolve: {
      ...base(mode).resolve,
      alias: { h5wasm$: path.resolve(__dirname, 'node_modules/h5wasm/dist/esm/hdf5_hl.js') },
    },
    // Optional native backend: stays a runtime require, resolved from the user's install if present.
    externals: { '@tensorflow/tfjs-node': 'commonjs @tensorflow/tfjs-node' },
    // Keep __dirname real so backend.ts finds the .wasm files beside the bundle.
    node: { __dirname: false, __filename: false },
    module: { rules: [tsRule('tsconfig.json')] },
    optimization: { minimizer: [new MangleMinimizer()] },
    plugins: [
      new CopyPlugin({
        patterns: [
          ...['tfjs-backend-wasm.wasm', 'tfjs-backend-wasm-simd.wasm', 'tfjs-backend-wasm-threaded-simd.wasm'].map(
            (f) => ({
              from: path.join('node_modules/@tensorflow/tfjs-backend-wasm/dist', f),
              to: f,
            }),
          ),
          // The HTML reports (CLI, worker jobs) inline plotly; the bundle has no node_modules.
          { from: 'node_modules/plotly.js-dist/plotly.js', to: 'plotly.js' },
        ],
      }),
    ],
  };
  const webview = {
    ...base(mode),
    name: 'webview',
    target: 'web',
    entry: { webview: './src/webview/main.ts' },
    output: { path: dist, filename: '[name].js' },
    module: { noParse: /plotly\.js-dist/, rules: [tsRule('tsconfig.webview.json')] },
    optimization: { minimizer: [new MangleMinimizer()] },
  };
  const renderer = {
    ...base(mode),
    name: 'renderer',
    target: 'web',
    entry: { renderer: './src/renderer/index.ts' },
    experiments: { outputModule: true },
    output: { path: dist, filename: '[name].js', library: { type: 'module' }, module: true },
    module: { noParse: /plotly\.js-dist/, rules: [tsRule('tsconfig.webview.json')] },
    optimization: { minimizer: [new MangleMinimizer(true)] },
  };
  return [extension, engine, webview, renderer];
};
