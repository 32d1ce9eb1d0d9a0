// The data layer's public surface: import from here rather than from the individual modules.
export * from './dataset';
export { readCsv, parseCsv, DEFAULT_MAX_CSV_BYTES, type CsvOptions } from './readCsv';
export { listBuiltinDatasets, loadDataset, isBuiltinDataset, BOSTON_RACE_NOTE, type BuiltinInfo } from './builtins';
export { dataDirectory, setDataDirectory } from './dataDirectory';
export { splitDataset, splitRecord, fitStandardization, applyStandardization, type SplitOptions } from './split';
export { splitForModel, checkDataFitsModel, checkFeatures, modelInputOfLoaded, type ForModelOptions } from './forModel';
export { loadData, dataKind, defaultMaxRows, type LoadDataOptions, type DataKind } from './load';
export type { InputSpec, Layout } from './inputSpec';
export {
  modelInputOf,
  impliedPixelScale,
  type ModelInput,
  type ModelFacts,
  type ModelTargets,
  type PixelScale,
} from './targetsForModel';
