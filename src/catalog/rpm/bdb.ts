/**
 * Berkeley DB hash databases, as rpm < 4.16 wrote /var/lib/rpm/Packages (RHEL/CentOS 7 and 8,
 * Amazon Linux 2): the header blobs are the values of a hash table. Pages are read directly,
 * without libdb: every hash page holds key/value item pairs; rpm's values are too big for a page,
 * so each is an "off-page" item pointing to a chain of overflow pages that hold the blob.
 *
 *   page header (26 bytes): lsn[8] pgno u32 @8, prev u32 @12, next u32 @16, entries u16 @20,
 *                           hf_offset u16 @22 (overflow pages: bytes used), level u8 @24, type u8 @25
 *   metadata page 0:        magic u32 @12 (0x061561 = hash), pagesize u32 @20, last_pgno u32 @32
 *   item offsets:           u16 array after the page header
 *   item:                   type u8 (1 = inline data, 3 = off-page: pgno u32 @4, total length u32 @8)
 * The byte order is the writer's; the magic number tells which. rpm's key 0 (its instance
 * counter) is skipped.
 */
const HASH_MAGIC = 0x061561;
const PAGE_HEADER = 26;
const P_HASH_UNSORTED = 2;
const P_OVERFLOW = 7;
const P_HASHMETA = 8;
const P_HASH = 13;
const H_KEYDATA = 1;
const H_OFFPAGE = 3;
const MAX_BLOB = 256 * 1024 * 1024;

export class BdbError extends Error {}

export function readBdbHashValues(buf: Buffer): Buffer[] {
  if (buf.length < 512) throw new BdbError('file too small for a Berkeley DB database');
  let le: boolean;
  if (buf.readUInt32LE(12) === HASH_MAGIC) le = true;
  else if (buf.readUInt32BE(12) === HASH_MAGIC) le = false;
  else throw new BdbError('not a Berkeley DB hash database (bad magic)');
  const u32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o));
  const u16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o));
  if (buf[25] !== P_HASHMETA) throw new BdbError(`page 0 is not hash metadata (type ${buf[25]})`);
  const pageSize = u32(20);
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0)
    throw new BdbError(`bad page size ${pageSize}`);
  const pages = Math.min(u32(32) + 1, Math.floor(buf.length / pageSize));

  const overflow = (first: number, total: number): Buffer => {
    if (total > MAX_BLOB) throw new BdbError(`value of ${total} bytes is too large`);
    const parts: Buffer[] = [];
    let got = 0;
    let pgno = first;
    const seen = new Set<number>();
    while (pgno !== 0 && got < total) {
      if (pgno >= pages || seen.has(pgno)) throw new BdbError(`broken overflow chain at page ${pgno}`);
      seen.add(pgno);
      const p = pgno * pageSize;
      if (buf[p + 25] !== P_OVERFLOW) throw new BdbError(`page ${pgno} is not an overflow page`);
      const len = u16(p + 22);
      if (len > pageSize - PAGE_HEADER) throw new BdbError(`overflow page ${pgno}: bad length ${len}`);
      parts.push(buf.subarray(p + PAGE_HEADER, p + PAGE_HEADER + len));
      got += len;
      pgno = u32(p + 16);
    }
    if (got < total) throw new BdbError(`overflow chain from page ${first} holds ${got} of ${total} bytes`);
    return Buffer.concat(parts).subarray(0, total);
  };

  const out: Buffer[] = [];
  for (let pgno = 1; pgno < pages; pgno++) {
    const p = pgno * pageSize;
    const type = buf[p + 25];
    if (type !== P_HASH && type !== P_HASH_UNSORTED) continue;
    const entries = u16(p + 20);
    if (PAGE_HEADER + entries * 2 > pageSize) throw new BdbError(`page ${pgno}: bad entry count ${entries}`);
    // items are key, value, key, value...; each item runs up to the previous one (or the page end)
    for (let i = 1; i < entries; i += 2) {
      const off = u16(p + PAGE_HEADER + i * 2);
      const end = u16(p + PAGE_HEADER + (i - 1) * 2);
      if (off < PAGE_HEADER || off >= pageSize || end > pageSize || end <= off)
        throw new BdbError(`page ${pgno}: bad item offset`);
      // rpm keeps its next instance number under key 0: not a package
      const keyOff = p + end;
      const keyEnd = i >= 2 ? p + u16(p + PAGE_HEADER + (i - 2) * 2) : p + pageSize;
      if (buf[keyOff] === H_KEYDATA && keyEnd - keyOff === 5 && buf.readUInt32LE(keyOff + 1) === 0) continue;
      const item = p + off;
      const itemType = buf[item];
      if (itemType === H_OFFPAGE) out.push(overflow(u32(item + 4), u32(item + 8)));
      else if (itemType === H_KEYDATA) out.push(Buffer.from(buf.subarray(item + 1, p + end)));
    }
  }
  return out;
}
