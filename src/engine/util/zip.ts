// A zip archive's central directory (with zip64) and its entries as byte streams, without
// extracting anything: stored entries are read in place, deflated ones inflated on demand
// (fflate) and never past the size the directory declares. Entry names are only matched, never
// used as paths, yet names that would escape a folder are refused as a sign of a hostile archive.
import * as fs from 'fs';
import { PruneScopeError, badInput } from '../errors';
import { FileStream, InflateStream, type ByteStream } from './byteStream';

export interface ZipEntry {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header. */
  localOffset: number;
}

export const MAX_ZIP_ENTRIES = 65536;
const EOCD_SIG = 0x06054b50;
const EOCD64_LOCATOR_SIG = 0x07064b50;
const EOCD64_SIG = 0x06064b50;
const CEN_SIG = 0x02014b50;
const LOC_SIG = 0x04034b50;

function readAt(fd: number, pos: number, n: number, file: string, what: string): DataView {
  const b = Buffer.alloc(n);
  const got = fs.readSync(fd, b, 0, n, pos);
  if (got < n)
    throw badInput(`the archive ends inside ${what}`, { file, expected: 'a complete zip file (is it truncated?)' });
  return new DataView(b.buffer, b.byteOffset, n);
}

function corrupt(file: string, what: string): PruneScopeError {
  return badInput(`corrupt zip archive: ${what}`, { file, expected: 'a valid zip file (as numpy.savez writes)' });
}

/** The entries listed in the central directory of `file`. */
export function readZipDirectory(file: string): ZipEntry[] {
  let fd: number;
  let size: number;
  try {
    fd = fs.openSync(file, 'r');
    size = fs.fstatSync(fd).size;
  } catch {
    throw new PruneScopeError('not-found', 'cannot read the file', { file, expected: 'a readable zip file' });
  }
  try {
    return directory(fd, size, file);
  } finally {
    fs.closeSync(fd);
  }
}

function directory(fd: number, size: number, file: string): ZipEntry[] {
  // The end record is 22 bytes plus a comment of at most 65535 bytes.
  const tail = Math.min(size, 22 + 65535);
  if (size < 22) throw badInput(`the file is ${size} bytes long`, { file, expected: 'a zip archive' });
  const t = readAt(fd, size - tail, tail, file, 'the end record');
  let eocd = -1;
  for (let p = tail - 22; p >= 0; p--) {
    if (t.getUint32(p, true) === EOCD_SIG && p + 22 + t.getUint16(p + 20, true) === tail) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) throw badInput('no zip end-of-directory record', { file, expected: 'a zip archive' });
  let count = t.getUint16(eocd + 10, true);
  let cdSize = t.getUint32(eocd + 12, true);
  let cdOffset = t.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locPos = size - tail + eocd - 20;
    if (locPos < 0) throw corrupt(file, 'zip64 fields without a zip64 locator');
    const loc = readAt(fd, locPos, 20, file, 'the zip64 locator');
    if (loc.getUint32(0, true) !== EOCD64_LOCATOR_SIG) throw corrupt(file, 'zip64 fields without a zip64 locator');
    const e64Pos = Number(loc.getBigUint64(8, true));
    if (e64Pos + 56 > locPos) throw corrupt(file, 'the zip64 end record lies outside the archive');
    const e64 = readAt(fd, e64Pos, 56, file, 'the zip64 end record');
    if (e64.getUint32(0, true) !== EOCD64_SIG) throw corrupt(file, 'bad zip64 end record signature');
    count = Number(e64.getBigUint64(32, true));
    cdSize = Number(e64.getBigUint64(40, true));
    cdOffset = Number(e64.getBigUint64(48, true));
  }
  if (count > MAX_ZIP_ENTRIES)
    throw new PruneScopeError('too-large', `the archive lists ${count} entries`, {
      file,
      expected: `at most ${MAX_ZIP_ENTRIES}`,
    });
  if (cdOffset + cdSize > size || cdSize < 46 * count)
    throw corrupt(file, 'the central directory lies outside the file');
  const cd = readAt(fd, cdOffset, cdSize, file, 'the central directory');
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cdSize || cd.getUint32(p, true) !== CEN_SIG) throw corrupt(file, `directory entry ${k} is malformed`);
    const flags = cd.getUint16(p + 8, true);
    const method = cd.getUint16(p + 10, true);
    let compressedSize = cd.getUint32(p + 20, true);
    let usize = cd.getUint32(p + 24, true);
    const nameLen = cd.getUint16(p + 28, true);
    const extraLen = cd.getUint16(p + 30, true);
    const commentLen = cd.getUint16(p + 32, true);
    let localOffset = cd.getUint32(p + 42, true);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cdSize) throw corrupt(file, `directory entry ${k} runs past the directory`);
    const nameBytes = new Uint8Array(cd.buffer, cd.byteOffset + p + 46, nameLen);
    const name = new TextDecoder(flags & 0x800 ? 'utf-8' : 'latin1').decode(nameBytes);
    // zip64 extra field (id 1): the 64-bit values of whichever fields hold 0xffffffff, in order.
    let x = p + 46 + nameLen;
    const xEnd = x + extraLen;
    while (x + 4 <= xEnd) {
      const id = cd.getUint16(x, true);
      const len = cd.getUint16(x + 2, true);
      if (x + 4 + len > xEnd) throw corrupt(file, `an extra field of entry "${clipName(name)}" overruns`);
      if (id === 1) {
        let q = x + 4;
        const next = (): number => {
          if (q + 8 > x + 4 + len) throw corrupt(file, `the zip64 field of entry "${clipName(name)}" is short`);
          const v = Number(cd.getBigUint64(q, true));
          q += 8;
          return v;
        };
        if (usize === 0xffffffff) usize = next();
        if (compressedSize === 0xffffffff) compressedSize = next();
        if (localOffset === 0xffffffff) localOffset = next();
      }
      x += 4 + len;
    }
    checkName(name, file);
    if (flags & 1) throw new PruneScopeError('unsupported', `entry "${clipName(name)}" is encrypted`, { file });
    if (localOffset + 30 + compressedSize > size)
      throw corrupt(file, `entry "${clipName(name)}" lies outside the archive`);
    entries.push({ name, method, compressedSize, size: usize, localOffset });
    p = end;
  }
  return entries;
}

function clipName(name: string): string {
  return name.length > 80 ? `${name.slice(0, 80)}...` : name;
}

function checkName(name: string, file: string): void {
  const parts = name.split('/');
  if (
    name.includes('\\') ||
    name.includes('\0') ||
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    parts.includes('..')
  )
    throw badInput(`entry name "${clipName(name)}" would leave the archive's folder`, {
      file,
      expected: 'relative entry names without "..", "\\" or a drive',
    });
}

/** A stream over one entry's uncompressed bytes. */
export function openZipEntry(file: string, e: ZipEntry): ByteStream {
  const name = `${file}: ${e.name}`;
  if (e.method !== 0 && e.method !== 8)
    throw new PruneScopeError('unsupported', `compression method ${e.method}`, {
      file: name,
      expected: 'stored (0) or deflated (8), as numpy.savez and savez_compressed write',
    });
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    throw new PruneScopeError('not-found', 'cannot read the file', { file, expected: 'a readable zip file' });
  }
  let dataStart: number;
  try {
    const loc = readAt(fd, e.localOffset, 30, file, `the local header of "${clipName(e.name)}"`);
    if (loc.getUint32(0, true) !== LOC_SIG) throw corrupt(file, `bad local header of "${clipName(e.name)}"`);
    dataStart = e.localOffset + 30 + loc.getUint16(26, true) + loc.getUint16(28, true);
    if (dataStart + e.compressedSize > fs.fstatSync(fd).size)
      throw corrupt(file, `the data of "${clipName(e.name)}" lies outside the archive`);
  } finally {
    fs.closeSync(fd);
  }
  if (e.method === 0) {
    if (e.compressedSize !== e.size) throw corrupt(file, `stored entry "${clipName(e.name)}" has two sizes`);
    return new FileStream(file, name, dataStart, e.size);
  }
  return new InflateStream(new FileStream(file, name, dataStart, e.compressedSize), e.compressedSize, e.size, name);
}
