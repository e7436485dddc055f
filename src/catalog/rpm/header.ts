/**
 * RPM header blobs as the rpm database stores them (every backend: sqlite, Berkeley DB, NDB):
 *
 *   int32 il   number of index entries       (big-endian, like everything in a header)
 *   int32 dl   size of the data store
 *   il × { int32 tag, int32 type, int32 offset, int32 count }
 *   dl bytes of data
 *
 * Only the tags the catalog uses are decoded; every offset and count is bounds-checked, so a
 * corrupt blob is an error, never an out-of-range read.
 */

export const TAG = {
  NAME: 1000,
  VERSION: 1001,
  RELEASE: 1002,
  EPOCH: 1003,
  LICENSE: 1014,
  VENDOR: 1011,
  ARCH: 1022,
  OLDFILENAMES: 1027,
  SOURCERPM: 1044,
  PROVIDENAME: 1047,
  REQUIREFLAGS: 1048,
  REQUIRENAME: 1049,
  DIRINDEXES: 1116,
  BASENAMES: 1117,
  DIRNAMES: 1118,
  MODULARITYLABEL: 5096,
} as const;

const TYPE = {
  CHAR: 1,
  INT8: 2,
  INT16: 3,
  INT32: 4,
  INT64: 5,
  STRING: 6,
  BIN: 7,
  STRING_ARRAY: 8,
  I18NSTRING: 9,
} as const;

/** Requirement on rpm itself ("rpmlib(PayloadIsZstd)"): not a package. */
const RPMSENSE_RPMLIB = 1 << 24;

const MAX_ENTRIES = 1 << 16;
const MAX_DATA = 256 * 1024 * 1024;

export interface RpmHeader {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  arch?: string;
  license?: string;
  vendor?: string;
  sourceRpm?: string;
  modularityLabel?: string;
  provides: string[];
  requires: string[];
  files: string[];
}

export class RpmHeaderError extends Error {}

interface Entry {
  type: number;
  offset: number;
  count: number;
}

export function parseRpmHeader(blob: Buffer): RpmHeader {
  if (blob.length < 8) throw new RpmHeaderError(`header too short (${blob.length} bytes)`);
  const il = blob.readUInt32BE(0);
  const dl = blob.readUInt32BE(4);
  if (il === 0 || il > MAX_ENTRIES) throw new RpmHeaderError(`implausible index entry count ${il}`);
  if (dl > MAX_DATA) throw new RpmHeaderError(`implausible data size ${dl}`);
  const dataStart = 8 + il * 16;
  if (dataStart + dl > blob.length)
    throw new RpmHeaderError(`header claims ${dataStart + dl} bytes, blob has ${blob.length}`);
  const data = blob.subarray(dataStart, dataStart + dl);
  const entries = new Map<number, Entry>();
  for (let i = 0; i < il; i++) {
    const at = 8 + i * 16;
    const tag = blob.readUInt32BE(at);
    const e = {
      type: blob.readUInt32BE(at + 4),
      offset: blob.readUInt32BE(at + 8),
      count: blob.readUInt32BE(at + 12),
    };
    if (e.offset > dl)
      throw new RpmHeaderError(`tag ${tag}: offset ${e.offset} outside the data store (${dl} bytes)`);
    if (!entries.has(tag)) entries.set(tag, e);
  }

  const strings = (tag: number): string[] => {
    const e = entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.STRING && e.type !== TYPE.STRING_ARRAY && e.type !== TYPE.I18NSTRING) {
      throw new RpmHeaderError(`tag ${tag}: expected strings, found type ${e.type}`);
    }
    const out: string[] = [];
    let pos = e.offset;
    const n = e.type === TYPE.STRING ? 1 : e.count;
    for (let i = 0; i < n; i++) {
      const end = data.indexOf(0, pos);
      if (end < 0) throw new RpmHeaderError(`tag ${tag}: unterminated string`);
      out.push(data.toString('utf8', pos, end));
      pos = end + 1;
    }
    return out;
  };
  const str = (tag: number): string | undefined => strings(tag)[0];
  const int32s = (tag: number): number[] => {
    const e = entries.get(tag);
    if (!e) return [];
    if (e.type !== TYPE.INT32) throw new RpmHeaderError(`tag ${tag}: expected int32, found type ${e.type}`);
    if (e.offset + e.count * 4 > dl)
      throw new RpmHeaderError(`tag ${tag}: ${e.count} int32 values overrun the data store`);
    const out: number[] = [];
    for (let i = 0; i < e.count; i++) out.push(data.readUInt32BE(e.offset + i * 4));
    return out;
  };

  const name = str(TAG.NAME);
  if (!name) throw new RpmHeaderError('header without a NAME');
  const epoch = int32s(TAG.EPOCH)[0];

  let files: string[];
  const basenames = strings(TAG.BASENAMES);
  if (basenames.length) {
    const dirnames = strings(TAG.DIRNAMES);
    const dirindexes = int32s(TAG.DIRINDEXES);
    if (dirindexes.length !== basenames.length)
      throw new RpmHeaderError('BASENAMES and DIRINDEXES differ in length');
    files = basenames.map((b, i) => {
      const d = dirnames[dirindexes[i]!];
      if (d === undefined) throw new RpmHeaderError(`DIRINDEXES[${i}] out of range`);
      return d + b;
    });
  } else files = strings(TAG.OLDFILENAMES);

  const requireNames = strings(TAG.REQUIRENAME);
  const requireFlags = int32s(TAG.REQUIREFLAGS);
  const requires = requireNames.filter(
    (r, i) => !((requireFlags[i] ?? 0) & RPMSENSE_RPMLIB) && !r.startsWith('rpmlib('),
  );

  const h: RpmHeader = {
    name,
    version: str(TAG.VERSION) ?? '',
    release: str(TAG.RELEASE) ?? '',
    provides: strings(TAG.PROVIDENAME),
    requires: [...new Set(requires)],
    files,
  };
  if (epoch !== undefined) h.epoch = epoch;
  const opt = {
    arch: TAG.ARCH,
    license: TAG.LICENSE,
    vendor: TAG.VENDOR,
    sourceRpm: TAG.SOURCERPM,
    modularityLabel: TAG.MODULARITYLABEL,
  } as const;
  for (const [k, tag] of Object.entries(opt) as [keyof typeof opt, number][]) {
    const v = str(tag);
    if (v) h[k] = v;
  }
  return h;
}

/** "openssl-1.1.1k-15.cm2.src.rpm" → { name: "openssl", version: "1.1.1k-15.cm2" }. */
export function parseSourceRpm(s: string | undefined): { name: string; version: string } | undefined {
  if (!s) return undefined;
  const base = s.replace(/\.(no)?src\.rpm$/, '');
  const m = /^(.+)-([^-]+)-([^-]+)$/.exec(base);
  return m ? { name: m[1]!, version: `${m[2]}-${m[3]}` } : undefined;
}
