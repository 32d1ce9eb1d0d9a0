// After the host kills (or loses) a worker in the middle of a job, the job cannot clean up after
// itself. Engine outputs are written with writeFileAtomic / writeFolderAtomic (src/engine/util/
// atomicWrite.ts), whose temporaries are named `.<name>.<pid>.<8 hex>.tmp` next to the target (and
// `<tmp>.old` for a folder being replaced). Knowing the dead worker's pid and the job's output
// folder, the host removes exactly those, and puts back a folder that was moved aside for a
// replace that never finished. Nothing else is touched. No vscode import.
import * as fs from 'fs';
import * as path from 'path';

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export interface CleanupReport {
  removed: string[];
  restored: string[];
}

export function cleanupAfterWorker(
  outDirs: readonly string[],
  pid: number,
  report: CleanupReport = { removed: [], restored: [] },
): CleanupReport {
  for (const dir of new Set(outDirs.map((d) => path.resolve(d)))) {
    const parent = path.dirname(dir);
    const base = path.basename(dir);
    const folderTmp = new RegExp(`^\\.${esc(base)}\\.${pid}\\.[0-9a-f]{8}\\.tmp(\\.old)?$`);
    for (const name of list(parent)) {
      const m = folderTmp.exec(name);
      if (!m) continue;
      const p = path.join(parent, name);
      if (m[1] && !fs.existsSync(dir)) {
        // Killed between "move the old folder aside" and "rename the new one in": restore the old.
        try {
          fs.renameSync(p, dir);
          report.restored.push(dir);
          continue;
        } catch {
          /* fall through: remove */
        }
      }
      fs.rmSync(p, { recursive: true, force: true });
      report.removed.push(p);
    }
    // writeFileAtomic temporaries of files written straight into the folder.
    const fileTmp = new RegExp(`^\\..+\\.${pid}\\.[0-9a-f]{8}\\.tmp$`);
    for (const name of list(dir)) {
      if (!fileTmp.test(name)) continue;
      const p = path.join(dir, name);
      fs.rmSync(p, { recursive: true, force: true });
      report.removed.push(p);
    }
  }
  return report;
}

function list(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}
