// Reading the few entries PruneScope needs from a zip (.keras) without trusting it: the central
// directory is parsed here, every entry name is checked (none may leave the folder, even though
// nothing is ever extracted to disk), declared sizes are bounded before anything is inflated,
// and each inflated entry must match its declared size and CRC-32. fflate does the inflating.
import { inflateSync } from 'fflate';
import { PruneScopeError } from '../errors';
import { preview } from '../util/jsonLimits';

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  crc: number;
  localOffset: number;
}

/** More entries than this is not a Keras archive (it writes three, plus assets). */
export const MAX_ZIP_ENTRIES = 10_000;
/** Deflate cannot compress better than about 1032:1; a larger claimed ratio is a lie. */
const MAX_RATIO = 1100;

let table: Uint32Array | undefined;
export function crc32(data: Uint8Array): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** Whether a zip entry name stays inside the folder it would be extracted to. */
export function safeEntryName(name: string): boolean {
  if (name === '' || name.includes('\0') || name.includes('\\')) return false;
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return false;
  return !name.split('/').some((seg) => seg === '..');
}

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();

  constructor(
    private readonly data: Uint8Array,
    private readonly file: string,
  ) {
    this.parse();
  }

  private bad(msg: string, field?: string): PruneScopeError {
    return new PruneScopeError('bad-input', msg, {
      file: this.file,
      field,
      expected: 'an intact zip archive (.keras)',
    });
  }

  private u16(at: number): number {
    return this.data[at] | (this.data[at + 1] << 8);
  }
  private u32(at: number): number {
    return (this.data[at] | (this.data[at + 1] << 8) | (this.data[at + 2] << 16) | (this.data[at + 3] << 24)) >>> 0;
  }

  private parse(): void {
    const d = this.data;
    // The end-of-central-directory record: 22 bytes plus a comment of up to 64 KB, at the end.
    let eocd = -1;
    for (let i = d.length - 22; i >= Math.max(0, d.length - 22 - 0xffff); i--)
      if (this.u32(i) === 0x06054b50) {
        eocd = i;
        break;
      }
    if (eocd < 0) throw this.bad('has no zip end-of-central-directory record (truncated, or not a zip file)');
    const count = this.u16(eocd + 10);
    const cdSize = this.u32(eocd + 12);
    const cdOffset = this.u32(eocd + 16);
    if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff)
      throw new PruneScopeError('unsupported', 'is a zip64 archive', {
        file: this.file,
        expected: 'a .keras archive under 4 GB (Keras writes plain zip)',
      });
    if (count > MAX_ZIP_ENTRIES)
      throw new PruneScopeError('too-large', `lists ${count} entries`, {
        file: this.file,
        expected: `at most ${MAX_ZIP_ENTRIES}`,
      });
    if (cdOffset + cdSize > eocd)
      throw this.bad(`central directory [${cdOffset}, +${cdSize}) runs past its end record at ${eocd}`);
    let at = cdOffset;
    for (let k = 0; k < count; k++) {
      if (at + 46 > eocd || this.u32(at) !== 0x02014b50)
        throw this.bad(`central directory entry ${k} is damaged`, `zip entry ${k}`);
      const flags = this.u16(at + 8);
      const method = this.u16(at + 10);
      const crc = this.u32(at + 16);
      const compressedSize = this.u32(at + 20);
      const size = this.u32(at + 24);
      const nameLen = this.u16(at + 28);
      const extraLen = this.u16(at + 30);
      const commentLen = this.u16(at + 32);
      const localOffset = this.u32(at + 42);
      if (at + 46 + nameLen > eocd) throw this.bad(`central directory entry ${k} is damaged`, `zip entry ${k}`);
      const name = Buffer.from(d.subarray(at + 46, at + 46 + nameLen)).toString('utf8');
      const field = `zip entry ${preview(name, 120)}`;
      if (!safeEntryName(name))
        throw new PruneScopeError('bad-input', `entry path ${preview(name, 200)} leaves the archive's folder`, {
          file: this.file,
          field,
          expected: 'relative entry names without ".." (never extracted, but refused)',
        });
      if (flags & 1)
        throw new PruneScopeError('unsupported', 'is encrypted', {
          file: this.file,
          field,
          expected: 'an unencrypted entry',
        });
      if (method !== 0 && method !== 8)
        throw new PruneScopeError('unsupported', `uses compression method ${method}`, {
          file: this.file,
          field,
          expected: 'stored (0) or deflate (8)',
        });
      if (this.entries.has(name)) throw this.bad(`entry ${preview(name, 120)} appears twice`, field);
      this.entries.set(name, { name, method, compressedSize, size, crc, localOffset });
      at += 46 + nameLen + extraLen + commentLen;
    }
  }

  /** The inflated bytes of one entry, at most `maxBytes` long; size and CRC-32 are checked. */
  read(name: string, maxBytes: number): Uint8Array {
    const e = this.entries.get(name);
    const field = `zip entry ${name}`;
    if (!e)
      throw new PruneScopeError('bad-input', 'is missing', { file: this.file, field, expected: `an entry ${name}` });
    if (e.size > maxBytes)
      throw new PruneScopeError('too-large', `declares ${e.size} bytes`, {
        file: this.file,
        field,
        expected: `at most ${maxBytes} bytes`,
      });
    if (e.method === 8 && e.size > 1024 * 1024 && e.size > MAX_RATIO * e.compressedSize)
      throw new PruneScopeError(
        'bad-input',
        `claims ${e.size} bytes from ${e.compressedSize} compressed (a zip bomb)`,
        {
          file: this.file,
          field,
          expected: `at most ${MAX_RATIO}:1 compression`,
        },
      );
    const h = e.localOffset;
    if (h + 30 > this.data.length || this.u32(h) !== 0x04034b50)
      throw this.bad('local header is missing or damaged', field);
    const start = h + 30 + this.u16(h + 26) + this.u16(h + 28);
    const end = start + e.compressedSize;
    if (end > this.data.length)
      throw this.bad(`data runs past the end of the file (${end} > ${this.data.length})`, field);
    const raw = this.data.subarray(start, end);
    let out: Uint8Array;
    if (e.method === 0) {
      if (e.compressedSize !== e.size)
        throw this.bad(`stored entry has ${e.compressedSize} bytes for ${e.size} declared`, field);
      out = raw.slice();
    } else {
      try {
        // The output buffer has the declared size: inflating cannot grow past it.
        out = inflateSync(raw, { out: new Uint8Array(e.size) });
      } catch (err) {
        throw this.bad(`does not inflate: ${(err as Error).message}`, field);
      }
    }
    if (out.length !== e.size) throw this.bad(`inflates to ${out.length} bytes, not the ${e.size} declared`, field);
    if (crc32(out) !== e.crc) throw this.bad('fails its CRC-32 check (corrupt data)', field);
    return out;
  }
}
