// PruneScope: Show Log: the PruneScope output channel (every job with its provenance).
import type { Deps } from '../deps';

export function showLog(d: Deps): void {
  d.log.show();
}
