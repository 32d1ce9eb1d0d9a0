// The one protocol module: host <-> worker, host <-> webviews, host <-> notebook kernel.
export * from './figure';
export * from './jobs';
export * from './worker';
export * from './webview';
