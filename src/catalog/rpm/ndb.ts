/**
 * NDB, rpm's own "new database" (Packages.db, SUSE since 15.3): little-endian.
 *
 *   header  { u32 magic "RpmP", u32 version (0), u32 generation, u32 slotNPages, u32 × 4 unused }
 *   slots   follow the header up to the end of slotNPages × 4096-byte pages, 16 bytes each:
 *           { u32 magic "Slot", u32 pkgIndex (0 = free), u32 blkOffset, u32 blkCount }
 *   blobs   at blkOffset × 16: { u32 magic "BlbS", u32 pkgIndex, u32 checksum, u32 length } + header
 */
const PAGE = 4096;
const BLK = 16;
const HEADER_MAGIC = 0x506d7052; // "RpmP"
const SLOT_MAGIC = 0x746f6c53; // "Slot"
const BLOB_MAGIC = 0x53626c42; // "BlbS"

export class NdbError extends Error {}

export function readNdbBlobs(buf: Buffer): Buffer[] {
  if (buf.length < 32 || buf.readUInt32LE(0) !== HEADER_MAGIC)
    throw new NdbError('not an NDB database (bad magic)');
  if (buf.readUInt32LE(4) !== 0) throw new NdbError(`unsupported NDB version ${buf.readUInt32LE(4)}`);
  const slotPages = buf.readUInt32LE(12);
  const slotsEnd = Math.min(slotPages * PAGE, buf.length);
  const out: Buffer[] = [];
  for (let at = 32; at + 16 <= slotsEnd; at += 16) {
    if (buf.readUInt32LE(at) !== SLOT_MAGIC) throw new NdbError(`bad slot magic at offset ${at}`);
    const pkgIndex = buf.readUInt32LE(at + 4);
    if (pkgIndex === 0) continue;
    const off = buf.readUInt32LE(at + 8) * BLK;
    const blkCount = buf.readUInt32LE(at + 12);
    if (off + 16 > buf.length) throw new NdbError(`package ${pkgIndex}: blob offset ${off} beyond the file`);
    if (buf.readUInt32LE(off) !== BLOB_MAGIC)
      throw new NdbError(`package ${pkgIndex}: bad blob magic at offset ${off}`);
    if (buf.readUInt32LE(off + 4) !== pkgIndex)
      throw new NdbError(`package ${pkgIndex}: blob belongs to package ${buf.readUInt32LE(off + 4)}`);
    const len = buf.readUInt32LE(off + 12);
    if (off + 16 + len > buf.length || 16 + len > blkCount * BLK)
      throw new NdbError(`package ${pkgIndex}: blob length ${len} overruns its blocks`);
    out.push(buf.subarray(off + 16, off + 16 + len));
  }
  return out;
}
