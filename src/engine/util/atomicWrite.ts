// Outputs are written atomically: to a temporary sibling first, then renamed into place, so a crash
// or a cancel never leaves a half-written file, and an existing user file is never clobbered.
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes } from 'crypto';

export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * Writes a whole folder of files atomically: builds it in a temporary sibling folder, then renames
 * it to `dir`. Refuses to replace an existing non-empty folder unless `replace` is set (then the
 * old folder is moved aside first and removed only after the new one is in place).
 */
export function writeFolderAtomic(
  dir: string,
  files: Record<string, string | Uint8Array>,
  opts: { replace?: boolean } = {},
): void {
  const parent = path.dirname(path.resolve(dir));
  fs.mkdirSync(parent, { recursive: true });
  const exists = fs.existsSync(dir) && fs.readdirSync(dir).length > 0;
  if (exists && !opts.replace) {
    throw new Error(`${dir}: output folder exists and is not empty; choose another --out or remove it`);
  }
  const tmp = path.join(parent, `.${path.basename(dir)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  fs.mkdirSync(tmp);
  try {
    for (const [name, data] of Object.entries(files)) {
      const target = path.join(tmp, name);
      if (!path.resolve(target).startsWith(path.resolve(tmp) + path.sep))
        throw new Error(`${name}: file name escapes the output folder`);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, data);
    }
    let aside: string | undefined;
    if (fs.existsSync(dir)) {
      aside = `${tmp}.old`;
      fs.renameSync(dir, aside);
    }
    fs.renameSync(tmp, dir);
    if (aside) fs.rmSync(aside, { recursive: true, force: true });
  } catch (e) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}
