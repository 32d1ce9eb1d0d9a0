// Sequential reading of a file's bytes with skips, so that a reader takes only the rows it was
// asked for: from a file on disk (skips are seeks), from memory, or from a DEFLATE-compressed
// zip entry (skips inflate and discard, in bounded steps, never past what the entry declares).
import * as fs from 'fs';
import { Inflate } from 'fflate';
import { PruneScopeError, badInput } from '../errors';

export interface ByteStream {
  /** The file named in error messages (for a zip entry: "archive.npz: x.npy"). */
  readonly name: string;
  /** Bytes consumed so far. */
  readonly position: number;
  /** Exactly n bytes, or a bad-input error naming `what` when the data ends first. */
  read(n: number, what: string): Uint8Array;
  skip(n: number, what: string): void;
  close(): void;
}

function truncated(name: string, what: string, wanted: number, got: number): PruneScopeError {
  return badInput(`the data ends after ${got} of the ${wanted} bytes of ${what}`, {
    file: name,
    expected: 'a complete file (is it truncated?)',
  });
}

export class MemoryStream implements ByteStream {
  position = 0;
  constructor(
    private readonly bytes: Uint8Array,
    readonly name: string,
  ) {}
  read(n: number, what: string): Uint8Array {
    const got = Math.min(n, this.bytes.length - this.position);
    if (got < n) throw truncated(this.name, what, n, got);
    const out = this.bytes.subarray(this.position, this.position + n);
    this.position += n;
    return out;
  }
  skip(n: number, what: string): void {
    this.read(n, what);
  }
  close(): void {}
}

const FILE_CHUNK = 1 << 20;

/** A byte range of a file on disk, read through a 1 MiB buffer; skips past the buffer seek. */
export class FileStream implements ByteStream {
  position = 0;
  private buf = new Uint8Array(0);
  private bufStart = 0;
  private fd: number | undefined;

  constructor(
    file: string,
    readonly name: string,
    private readonly start = 0,
    private readonly length = Infinity,
  ) {
    try {
      this.fd = fs.openSync(file, 'r');
    } catch {
      throw new PruneScopeError('not-found', 'cannot read the file', { file: name, expected: 'a readable file' });
    }
  }

  read(n: number, what: string): Uint8Array {
    if (this.position + n > this.length) throw truncated(this.name, what, n, Math.max(0, this.length - this.position));
    const off = this.position - this.bufStart;
    if (off >= 0 && off + n <= this.buf.length) {
      this.position += n;
      return this.buf.subarray(off, off + n);
    }
    const size = Math.min(Math.max(n, FILE_CHUNK), this.length - this.position);
    const buf = new Uint8Array(size);
    const got = fs.readSync(this.fd!, buf, 0, size, this.start + this.position);
    this.buf = buf.subarray(0, got);
    this.bufStart = this.position;
    if (got < n) throw truncated(this.name, what, n, got);
    this.position += n;
    return this.buf.subarray(0, n);
  }

  skip(n: number, what: string): void {
    if (this.position + n > this.length) throw truncated(this.name, what, n, Math.max(0, this.length - this.position));
    this.position += n;
  }

  close(): void {
    if (this.fd !== undefined) fs.closeSync(this.fd);
    this.fd = undefined;
  }
}

/** Compressed bytes fed to the inflater per step: DEFLATE expands at most ~1032x, so <= 4 MiB out. */
const INFLATE_STEP = 4096;

/**
 * A raw DEFLATE stream (zip method 8) inflated on demand from `source`. It never produces more than
 * `declaredSize` bytes: a stream that inflates past it is refused (a zip bomb lies about its size).
 */
export class InflateStream implements ByteStream {
  position = 0;
  private chunks: Uint8Array[] = [];
  private queued = 0;
  private produced = 0;
  private ended = false;
  private readonly inflater: Inflate;

  constructor(
    private readonly source: ByteStream,
    private readonly compressedSize: number,
    private readonly declaredSize: number,
    readonly name: string,
  ) {
    this.inflater = new Inflate((data, final) => {
      this.produced += data.length;
      if (this.produced > this.declaredSize)
        throw badInput(`the entry inflates past its declared ${this.declaredSize} bytes`, {
          file: this.name,
          expected: 'an entry whose size matches the zip directory',
        });
      if (data.length) {
        this.chunks.push(data);
        this.queued += data.length;
      }
      if (final) this.ended = true;
    });
  }

  private fill(n: number, what: string): void {
    while (this.queued < n) {
      const left = this.compressedSize - this.source.position;
      if (this.ended || left <= 0) throw truncated(this.name, what, n, this.queued);
      const step = Math.min(INFLATE_STEP, left);
      const input = this.source.read(step, 'compressed data');
      try {
        this.inflater.push(input, step === left);
      } catch (e) {
        if (e instanceof PruneScopeError) throw e;
        throw badInput(`corrupt compressed data (${(e as Error).message})`, {
          file: this.name,
          expected: 'a valid DEFLATE stream',
        });
      }
    }
  }

  read(n: number, what: string): Uint8Array {
    this.fill(n, what);
    const out = new Uint8Array(n);
    let k = 0;
    while (k < n) {
      const c = this.chunks[0];
      const take = Math.min(c.length, n - k);
      out.set(c.subarray(0, take), k);
      k += take;
      if (take === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(take);
    }
    this.queued -= n;
    this.position += n;
    return out;
  }

  skip(n: number, what: string): void {
    // In bounded steps, so a skip over a large stretch never holds it all in memory.
    while (n > 0) {
      const step = Math.min(n, 1 << 22);
      this.fill(step, what);
      let k = step;
      while (k > 0) {
        const c = this.chunks[0];
        if (c.length <= k) {
          this.chunks.shift();
          k -= c.length;
        } else {
          this.chunks[0] = c.subarray(k);
          k = 0;
        }
      }
      this.queued -= step;
      this.position += step;
      n -= step;
    }
  }

  close(): void {
    this.chunks = [];
    this.source.close();
  }
}
