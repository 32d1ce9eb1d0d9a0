// Every result records how it was made, so it can be reproduced.
import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { backendInfo } from './backend';

export type SourceKind = 'builtin' | 'csv' | 'image-folder' | 'npy' | 'npz';

/** What a loader did to the user's data: recorded in results so a run can be repeated. */
export interface DataSource {
  kind: SourceKind;
  /** Resolved path (absent for built-ins). */
  path?: string;
  /** Rows the source holds, and rows loaded (a seeded uniform sample when fewer). */
  rowsAvailable: number;
  rowsLoaded: number;
  sampleSeed?: number;
  /** Image folders: the class folder names in sorted order (index = label unless mapped to the model's). */
  classes?: string[];
  /** Pixel range fed to the model and why: [0, 1] or [0, 255]. */
  pixelRange?: { range: '[0, 1]' | '[0, 255]'; reason: string };
  /** Each conversion applied (resizing, channels, layout), in words. */
  conversions: string[];
}

export interface Provenance {
  tool: 'prunescope';
  version: string;
  /** What was computed: e.g. 'train', 'curvature', 'relevance'. */
  job: string;
  method?: string;
  variant?: string;
  covariance?: string;
  seed?: number;
  data?: {
    name: string;
    split: string;
    rows: number;
    splitSeed?: number;
    testFraction?: number;
    standardized?: boolean;
    /** How the rows were read from the user's files: sample, classes, pixel range, conversions. */
    source?: DataSource;
  };
  backend: string;
  /** sha256 of the model's parameters (and spec) the result was computed from. */
  modelHash?: string;
  /** ISO time the result was produced. */
  time: string;
  /** Any further options that change the result. */
  options?: Record<string, unknown>;
}

// The package.json is found by walking up from this file: its depth differs between the tsc
// build (build/src/engine) and a webpack bundle (dist/).
const VERSION: string = (() => {
  for (let dir = __dirname, i = 0; i < 6; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
      if (pkg.name === 'prunescope') return String(pkg.version);
    } catch {
      // not here; keep walking up
    }
  }
  return 'unknown';
})();

export function makeProvenance(
  fields: Omit<Provenance, 'tool' | 'version' | 'backend' | 'time'> & { backend?: string },
): Provenance {
  let backend = fields.backend;
  if (!backend) {
    try {
      backend = backendInfo().name;
    } catch {
      backend = 'none';
    }
  }
  return { tool: 'prunescope', version: VERSION, ...fields, backend, time: new Date().toISOString() };
}

/** sha256 (hex, first 16 chars) of a model's spec and flat parameters. */
export function hashModel(specJson: unknown, flat: Float32Array): string {
  const h = createHash('sha256');
  h.update(JSON.stringify(specJson));
  h.update(Buffer.from(flat.buffer, flat.byteOffset, flat.byteLength));
  return h.digest('hex').slice(0, 16);
}
