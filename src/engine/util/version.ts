// PruneScope's own version, for the generatedBy / producer fields of the files it writes.
import * as fs from 'fs';
import * as path from 'path';

// package.json sits at a different depth from build/src/ (tsc) and dist/ (bundle): walk up to it.
// Read with fs, not require, so a bundler does not try to resolve it at build time.
export const VERSION: string = (() => {
  for (let d = __dirname, i = 0; i < 6; i++, d = path.dirname(d)) {
    try {
      const p = JSON.parse(fs.readFileSync(path.join(d, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (p.name === 'prunescope' && p.version) return p.version;
    } catch {
      /* not here */
    }
  }
  return 'unknown';
})();
