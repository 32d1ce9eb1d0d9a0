// Every result records how it was made, so it can be reproduced.
import { createHash } from 'crypto';
import { backendInfo } from './backend';

export interface Provenance {
  tool: 'prunescope';
  version: string;
  /** What was computed: e.g. 'train', 'curvature', 'relevance'. */
  job: string;
  method?: string;
  variant?: string;
  covariance?: string;
  seed?: number;
  data?: { name: string; split: string; rows: number; splitSeed?: number; testFraction?: number; standardized?: boolean };
  backend: string;
  /** sha256 of the model's parameters (and spec) the result was computed from. */
  modelHash?: string;
  /** ISO time the result was produced. */
  time: string;
  /** Any further options that change the result. */
  options?: Record<string, unknown>;
}

// eslint-disable-next-line @typescript-eslint/no-var-requires
const VERSION: string = (() => {
  try {
    return require('../../package.json').version as string;
  } catch {
    return 'unknown';
  }
})();

export function makeProvenance(fields: Omit<Provenance, 'tool' | 'version' | 'backend' | 'time'> & { backend?: string }): Provenance {
  let backend = fields.backend;
  if (!backend) {
    try { backend = backendInfo().name; } catch { backend = 'none'; }
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
