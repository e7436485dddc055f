/**
 * The agent's disk buffer: events wait here, in order, until the console has acknowledged them.
 *
 * Layout of the buffer directory: segment files `seg-<12-digit number>.jsonl` (one JSON object
 * per line, appended, rolled at `segmentBytes`) and, per segment, `seg-<n>.ack` holding the byte
 * offset up to which its events were delivered (written atomically). Reading takes the oldest
 * segment from its ack offset, so delivery order is append order, across restarts too.
 *
 * Bounds: at most `maxBytes` of segments; beyond it the oldest segment is deleted and its
 * undelivered events are counted in `dropped` (never silently: the caller reports the count).
 * Recovery: a segment whose last line is torn (the agent died mid-write) is truncated to its last
 * whole line; lines that are not JSON are skipped and counted in `corrupt`.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export interface DiskBufferOptions {
  /** roll the current segment beyond this many bytes (default 4 MiB) */
  segmentBytes?: number;
  /** total bytes of segments kept (default 256 MiB); the oldest are dropped beyond it */
  maxBytes?: number;
}

export interface Batch<T> {
  items: T[];
  /** segment number and the byte offsets this batch covers */
  seg: number;
  from: number;
  to: number;
}

const SEG_RE = /^seg-(\d{12})\.jsonl$/;
const segName = (n: number) => `seg-${String(n).padStart(12, '0')}.jsonl`;
const ackName = (n: number) => `seg-${String(n).padStart(12, '0')}.ack`;

export class DiskBuffer<T = unknown> {
  private readonly segmentBytes: number;
  private readonly maxBytes: number;
  /** segment numbers on disk, oldest first; the last is the one being appended to */
  private segs: number[] = [];
  private sizes = new Map<number, number>();
  private acks = new Map<number, number>();
  private fd: number | undefined;
  /** events lost to the size bound */
  dropped = 0;
  /** lines that were not JSON (skipped) */
  corrupt = 0;
  /** events appended since open */
  appended = 0;

  constructor(
    readonly dir: string,
    opts: DiskBufferOptions = {},
  ) {
    this.segmentBytes = opts.segmentBytes ?? 4 * 2 ** 20;
    this.maxBytes = opts.maxBytes ?? 256 * 2 ** 20;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.segs = readdirSync(dir)
      .map((f) => SEG_RE.exec(f)?.[1])
      .filter((n): n is string => n !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    for (const n of this.segs) {
      this.sizes.set(n, this.repairTail(n));
      const a = join(dir, ackName(n));
      if (existsSync(a)) {
        const v = Number(readFileSync(a, 'utf8').trim());
        if (Number.isFinite(v) && v >= 0) this.acks.set(n, Math.min(v, this.sizes.get(n)!));
      }
    }
    // always append to a new segment: an old one may be read while we write
    this.openSegment((this.segs.at(-1) ?? 0) + 1);
  }

  /** truncates a torn last line; returns the segment's size */
  private repairTail(n: number): number {
    const p = join(this.dir, segName(n));
    const size = statSync(p).size;
    if (size === 0) return 0;
    const fd = openSync(p, 'r+');
    try {
      const tail = Buffer.alloc(Math.min(size, 65536));
      let end = size;
      // find the last newline; everything after it is a torn write
      for (let pos = size; pos > 0;) {
        const len = Math.min(tail.length, pos);
        readSync(fd, tail, 0, len, pos - len);
        const i = tail.subarray(0, len).lastIndexOf(0x0a);
        if (i >= 0) {
          end = pos - len + i + 1;
          break;
        }
        pos -= len;
        if (pos === 0) end = 0;
      }
      if (end !== size) ftruncateSync(fd, end);
      return end;
    } finally {
      closeSync(fd);
    }
  }

  private openSegment(n: number): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
    }
    this.fd = openSync(join(this.dir, segName(n)), 'a', 0o600);
    this.segs.push(n);
    this.sizes.set(n, fstatSync(this.fd).size);
  }

  private get current(): number {
    return this.segs.at(-1)!;
  }

  /** bytes of segments on disk */
  get bytes(): number {
    let b = 0;
    for (const n of this.segs) b += this.sizes.get(n) ?? 0;
    return b;
  }

  /** true when every appended event was acknowledged */
  get empty(): boolean {
    return this.segs.every((n) => (this.acks.get(n) ?? 0) >= (this.sizes.get(n) ?? 0));
  }

  /** Appends events (one write); rolls the segment and enforces the size bound. */
  append(items: T[]): void {
    if (!items.length) return;
    const buf = Buffer.from(items.map((i) => JSON.stringify(i)).join('\n') + '\n');
    if (
      (this.sizes.get(this.current) ?? 0) + buf.length > this.segmentBytes &&
      this.sizes.get(this.current)! > 0
    )
      this.openSegment(this.current + 1);
    writeSync(this.fd!, buf);
    this.sizes.set(this.current, (this.sizes.get(this.current) ?? 0) + buf.length);
    this.appended += items.length;
    while (this.bytes > this.maxBytes && this.segs.length > 1) this.dropOldest();
  }

  private dropOldest(): void {
    const n = this.segs[0]!;
    const from = this.acks.get(n) ?? 0;
    this.dropped += this.countLines(n, from);
    this.removeSegment(n);
  }

  private countLines(n: number, from: number): number {
    const b = readFileSync(join(this.dir, segName(n))).subarray(from);
    let c = 0;
    for (const x of b) if (x === 0x0a) c++;
    return c;
  }

  private removeSegment(n: number): void {
    rmSync(join(this.dir, segName(n)), { force: true });
    rmSync(join(this.dir, ackName(n)), { force: true });
    this.segs = this.segs.filter((s) => s !== n);
    this.sizes.delete(n);
    this.acks.delete(n);
  }

  /** fsyncs the segment being written */
  sync(): void {
    if (this.fd !== undefined) fsyncSync(this.fd);
  }

  /** The oldest undelivered events: up to maxItems, about maxBytes (whole lines). */
  next(maxItems = 500, maxBytes = 2 ** 20): Batch<T> | undefined {
    for (const n of [...this.segs]) {
      const size = this.sizes.get(n) ?? 0;
      const from = this.acks.get(n) ?? 0;
      if (from >= size) {
        if (n !== this.current) this.removeSegment(n);
        continue;
      }
      const fd = openSync(join(this.dir, segName(n)), 'r');
      try {
        const len = Math.min(size - from, maxBytes);
        let chunk = Buffer.alloc(len);
        readSync(fd, chunk, 0, len, from);
        let last = chunk.lastIndexOf(0x0a);
        if (last < 0) {
          // one line longer than maxBytes: read it whole
          const whole = Buffer.alloc(size - from);
          readSync(fd, whole, 0, whole.length, from);
          chunk = whole;
          last = chunk.indexOf(0x0a);
        }
        const items: T[] = [];
        let pos = 0;
        let to = from;
        while (pos <= last && items.length < maxItems) {
          const nl = chunk.indexOf(0x0a, pos);
          const line = chunk.toString('utf8', pos, nl);
          pos = nl + 1;
          to = from + pos;
          if (!line) continue;
          try {
            items.push(JSON.parse(line) as T);
          } catch {
            this.corrupt++;
          }
        }
        if (!items.length) {
          // only corrupt lines: skip them
          this.ackTo(n, to);
          continue;
        }
        return { items, seg: n, from, to };
      } finally {
        closeSync(fd);
      }
    }
    return undefined;
  }

  /** Marks a batch delivered. */
  ack(b: Batch<T>): void {
    if (!this.sizes.has(b.seg)) return; // dropped meanwhile
    this.ackTo(b.seg, b.to);
  }

  private ackTo(n: number, to: number): void {
    this.acks.set(n, to);
    if (n !== this.current && to >= (this.sizes.get(n) ?? 0)) {
      this.removeSegment(n);
      return;
    }
    const p = join(this.dir, ackName(n));
    writeFileSync(p + '.tmp', String(to));
    renameSync(p + '.tmp', p);
  }

  close(): void {
    if (this.fd !== undefined) {
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = undefined;
    }
    // an empty current segment is not kept
    const n = this.current;
    if ((this.sizes.get(n) ?? 0) === 0) this.removeSegment(n);
  }
}
