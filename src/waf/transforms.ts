/**
 * ModSecurity transformations over latin1 byte strings (one char = one byte), with ModSecurity's
 * own semantics: ASCII-only case mapping, %uHHHH taking the low byte (full-width ASCII mapped
 * back to ASCII), entity values truncated to a byte.
 */
import { createHash } from 'node:crypto';

export type Transform = (s: string) => string;

const HEX = /^[0-9a-fA-F]$/;
function isHex(c: string | undefined): boolean {
  return c !== undefined && HEX.test(c);
}
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13);
}

export function lowercase(s: string): string {
  if (!/[A-Z]/.test(s)) return s;
  let o = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    o += c >= 65 && c <= 90 ? String.fromCharCode(c + 32) : s[i];
  }
  return o;
}

export function uppercase(s: string): string {
  let o = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    o += c >= 97 && c <= 122 ? String.fromCharCode(c - 32) : s[i];
  }
  return o;
}

/** low byte of %uHHHH / \uHHHH, with full-width ASCII (U+FF01..U+FF5E) mapped to ASCII */
function uniByte(h: string): string {
  let v = parseInt(h.slice(2, 4), 16);
  if (v > 0x00 && v < 0x5f && (h[0] === 'f' || h[0] === 'F') && (h[1] === 'f' || h[1] === 'F')) v += 0x20;
  return String.fromCharCode(v);
}

export function urlDecode(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  let o = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%' && isHex(s[i + 1]) && isHex(s[i + 2])) {
      o += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (c === '+') o += ' ';
    else o += c;
  }
  return o;
}

export function urlDecodeUni(s: string): string {
  if (!s.includes('%') && !s.includes('+')) return s;
  let o = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%') {
      if (
        (s[i + 1] === 'u' || s[i + 1] === 'U') &&
        isHex(s[i + 2]) &&
        isHex(s[i + 3]) &&
        isHex(s[i + 4]) &&
        isHex(s[i + 5])
      ) {
        o += uniByte(s.slice(i + 2, i + 6));
        i += 5;
      } else if (isHex(s[i + 1]) && isHex(s[i + 2])) {
        o += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
        i += 2;
      } else o += c;
    } else if (c === '+') o += ' ';
    else o += c;
  }
  return o;
}

/** %-decoding without '+' (ModSecurity's URI decoding for REQUEST_URI / REQUEST_FILENAME) */
export function uriDecode(s: string): string {
  if (!s.includes('%')) return s;
  let o = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '%' && isHex(s[i + 1]) && isHex(s[i + 2])) {
      o += String.fromCharCode(parseInt(s.slice(i + 1, i + 3), 16));
      i += 2;
    } else o += c;
  }
  return o;
}

const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', nbsp: '\xa0' };

export function htmlEntityDecode(s: string): string {
  if (!s.includes('&')) return s;
  let o = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    if (c !== '&') {
      o += c;
      continue;
    }
    if (s[i + 1] === '#') {
      let j = i + 2;
      if (s[j] === 'x' || s[j] === 'X') {
        j++;
        const st = j;
        while (j < n && isHex(s[j])) j++;
        if (j > st) {
          o += String.fromCharCode(parseInt(s.slice(st, j), 16) & 0xff);
          if (s[j] === ';') j++;
          i = j - 1;
          continue;
        }
      } else {
        const st = j;
        while (j < n && s[j]! >= '0' && s[j]! <= '9') j++;
        if (j > st) {
          o += String.fromCharCode(parseInt(s.slice(st, j), 10) & 0xff);
          if (s[j] === ';') j++;
          i = j - 1;
          continue;
        }
      }
      o += c;
      continue;
    }
    let j = i + 1;
    while (j < n && j - i <= 5 && /[a-zA-Z]/.test(s[j]!)) j++;
    const name = s.slice(i + 1, j).toLowerCase();
    const v = ENTITIES[name];
    if (v !== undefined) {
      o += v;
      if (s[j] === ';') j++;
      i = j - 1;
      continue;
    }
    o += c;
  }
  return o;
}

export function jsDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let o = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= n) {
      o += c;
      continue;
    }
    const d = s[i + 1]!;
    if (
      (d === 'u' || d === 'U') &&
      isHex(s[i + 2]) &&
      isHex(s[i + 3]) &&
      isHex(s[i + 4]) &&
      isHex(s[i + 5])
    ) {
      o += uniByte(s.slice(i + 2, i + 6));
      i += 5;
    } else if ((d === 'x' || d === 'X') && isHex(s[i + 2]) && isHex(s[i + 3])) {
      o += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (d >= '0' && d <= '7') {
      let j = i + 1;
      while (j < n && j < i + 4 && s[j]! >= '0' && s[j]! <= '7') j++;
      o += String.fromCharCode(parseInt(s.slice(i + 1, j), 8) & 0xff);
      i = j - 1;
    } else {
      const m: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v' };
      o += m[d] ?? d;
      i += 1;
    }
  }
  return o;
}

export function cssDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let o = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      o += c;
      continue;
    }
    if (i + 1 >= n) break; // a trailing backslash is dropped
    let j = i + 1;
    while (j < n && j < i + 7 && isHex(s[j])) j++;
    const len = j - i - 1;
    if (len > 0) {
      const h = s.slice(i + 1, j);
      let v: number;
      if (len === 1) v = parseInt(h, 16);
      else {
        // the last two digits, full-width ASCII mapped back
        v = parseInt(h.slice(-2), 16);
        if (len >= 4) {
          const hi = h.slice(-4, -2).toLowerCase();
          if (hi === 'ff' && v > 0 && v < 0x5f) v += 0x20;
        }
      }
      o += String.fromCharCode(v);
      if (j < n && isSpace(s.charCodeAt(j))) j++;
      i = j - 1;
      continue;
    }
    if (s[i + 1] === '\n') {
      i += 1;
      continue;
    }
    o += s[i + 1];
    i += 1;
  }
  return o;
}

export function cmdLine(s: string): string {
  let o = '';
  let space = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    switch (c) {
      case '"':
      case "'":
      case '\\':
      case '^':
        break;
      case ' ':
      case ',':
      case ';':
      case '\t':
      case '\r':
      case '\n':
        if (!space) {
          o += ' ';
          space = true;
        }
        break;
      case '/':
      case '(':
        if (space) o = o.slice(0, -1);
        space = false;
        o += c;
        break;
      default: {
        const code = c.charCodeAt(0);
        o += code >= 65 && code <= 90 ? String.fromCharCode(code + 32) : c;
        space = false;
      }
    }
  }
  return o;
}

export function compressWhitespace(s: string): string {
  return s.replace(/[\t-\r \xa0]+/g, ' ');
}
export function removeWhitespace(s: string): string {
  return s.replace(/[\t-\r \xa0]+/g, '');
}
export function removeNulls(s: string): string {
  return s.includes('\0') ? s.replace(/\0/g, '') : s;
}
export function replaceNulls(s: string): string {
  return s.includes('\0') ? s.replace(/\0/g, ' ') : s;
}

export function normalizePath(s: string, win = false): string {
  if (win) s = s.replace(/\\/g, '/');
  if (!s.includes('/') && !s.includes('.')) return s;
  const abs = s.startsWith('/');
  const trailing = s.endsWith('/') || s.endsWith('/.') || s.endsWith('/..') || s === '.' || s === '..';
  const parts = s.split('/');
  const out: string[] = [];
  for (const p of parts) {
    if (p === '' || p === '.') continue;
    if (p === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else if (!abs) out.push('..');
      continue;
    }
    out.push(p);
  }
  let r = (abs ? '/' : '') + out.join('/');
  if (trailing && out.length) r += '/';
  return r;
}

export function replaceComments(s: string): string {
  if (!s.includes('/*')) return s;
  let o = '';
  let i = 0;
  while (i < s.length) {
    const st = s.indexOf('/*', i);
    if (st < 0) {
      o += s.slice(i);
      break;
    }
    o += s.slice(i, st) + ' ';
    const end = s.indexOf('*/', st + 2);
    if (end < 0) break;
    i = end + 2;
  }
  return o;
}

export function removeComments(s: string): string {
  let o = '';
  let i = 0;
  const n = s.length;
  while (i < n) {
    if (s[i] === '/' && s[i + 1] === '*') {
      const end = s.indexOf('*/', i + 2);
      if (end < 0) break;
      i = end + 2;
    } else if ((s[i] === '-' && s[i + 1] === '-') || s[i] === '#') {
      break;
    } else if (s[i] === '<' && s.startsWith('<!--', i)) {
      const end = s.indexOf('-->', i + 4);
      if (end < 0) break;
      i = end + 3;
    } else o += s[i++];
  }
  return o;
}

export function removeCommentsChar(s: string): string {
  return s.replace(/\/\*|\*\/|--|#|<!--|-->/g, '');
}

/** UTF-8 sequences to %uHHHH (ModSecurity's utf8toUnicode); invalid bytes stay as they are. */
export function utf8toUnicode(s: string): string {
  if (!/[\x80-\xff]/.test(s)) return s;
  let o = '';
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      o += s[i];
      continue;
    }
    let len = 0;
    let cp = 0;
    if ((c & 0xe0) === 0xc0) {
      len = 2;
      cp = c & 0x1f;
    } else if ((c & 0xf0) === 0xe0) {
      len = 3;
      cp = c & 0x0f;
    } else if ((c & 0xf8) === 0xf0) {
      len = 4;
      cp = c & 0x07;
    }
    let ok = len > 0 && i + len <= n;
    for (let k = 1; ok && k < len; k++) {
      const b = s.charCodeAt(i + k);
      if ((b & 0xc0) !== 0x80) ok = false;
      else cp = (cp << 6) | (b & 0x3f);
    }
    if (!ok) {
      o += s[i];
      continue;
    }
    o += '%u' + cp.toString(16).padStart(4, '0');
    i += len - 1;
  }
  return o;
}

export function base64Decode(s: string): string {
  const m = /^[A-Za-z0-9+/]*={0,2}/.exec(s);
  return Buffer.from(m ? m[0] : '', 'base64').toString('latin1' as BufferEncoding);
}
export function base64DecodeExt(s: string): string {
  return Buffer.from(s.replace(/[^A-Za-z0-9+/]/g, ''), 'base64').toString('latin1' as BufferEncoding);
}
export function hexEncode(s: string): string {
  return Buffer.from(s, 'latin1' as BufferEncoding).toString('hex');
}
export function hexDecode(s: string): string {
  return Buffer.from(s.length % 2 ? s.slice(0, -1) : s, 'hex').toString('latin1' as BufferEncoding);
}

export function escapeSeqDecode(s: string): string {
  if (!s.includes('\\')) return s;
  let o = '';
  const n = s.length;
  const m: Record<string, string> = {
    a: '\x07',
    b: '\b',
    f: '\f',
    n: '\n',
    r: '\r',
    t: '\t',
    v: '\v',
    '\\': '\\',
    '?': '?',
    "'": "'",
    '"': '"',
  };
  for (let i = 0; i < n; i++) {
    const c = s[i]!;
    if (c !== '\\' || i + 1 >= n) {
      o += c;
      continue;
    }
    const d = s[i + 1]!;
    if (m[d] !== undefined) {
      o += m[d];
      i++;
    } else if ((d === 'x' || d === 'X') && isHex(s[i + 2]) && isHex(s[i + 3])) {
      o += String.fromCharCode(parseInt(s.slice(i + 2, i + 4), 16));
      i += 3;
    } else if (d >= '0' && d <= '7') {
      let j = i + 1;
      while (j < n && j < i + 4 && s[j]! >= '0' && s[j]! <= '7') j++;
      o += String.fromCharCode(parseInt(s.slice(i + 1, j), 8) & 0xff);
      i = j - 1;
    } else o += c;
  }
  return o;
}

export function sqlHexDecode(s: string): string {
  return s.replace(/0x((?:[0-9a-fA-F]{2})+)/g, (_m, h: string) =>
    Buffer.from(h, 'hex').toString('latin1' as BufferEncoding),
  );
}

const hash = (alg: string) => (s: string) =>
  createHash(alg)
    .update(Buffer.from(s, 'latin1' as BufferEncoding))
    .digest()
    .toString('latin1');

export const TRANSFORMS: Record<string, Transform> = {
  lowercase,
  uppercase,
  urldecode: urlDecode,
  urldecodeuni: urlDecodeUni,
  htmlentitydecode: htmlEntityDecode,
  jsdecode: jsDecode,
  cssdecode: cssDecode,
  cmdline: cmdLine,
  compresswhitespace: compressWhitespace,
  removewhitespace: removeWhitespace,
  removenulls: removeNulls,
  replacenulls: replaceNulls,
  normalizepath: (s) => normalizePath(s),
  normalisepath: (s) => normalizePath(s),
  normalizepathwin: (s) => normalizePath(s, true),
  normalisepathwin: (s) => normalizePath(s, true),
  replacecomments: replaceComments,
  removecomments: removeComments,
  removecommentschar: removeCommentsChar,
  utf8tounicode: utf8toUnicode,
  base64decode: base64Decode,
  base64decodeext: base64DecodeExt,
  base64encode: (s) => Buffer.from(s, 'latin1' as BufferEncoding).toString('base64'),
  hexencode: hexEncode,
  hexdecode: hexDecode,
  escapeseqdecode: escapeSeqDecode,
  sqlhexdecode: sqlHexDecode,
  sha1: hash('sha1'),
  md5: hash('md5'),
  length: (s) => String(s.length),
  trim: (s) => s.replace(/^[\t-\r ]+|[\t-\r ]+$/g, ''),
  trimleft: (s) => s.replace(/^[\t-\r ]+/, ''),
  trimright: (s) => s.replace(/[\t-\r ]+$/, ''),
  urlencode: (s) =>
    s.replace(/[^A-Za-z0-9\-_.*]/g, (c) =>
      c === ' ' ? '+' : '%' + c.charCodeAt(0).toString(16).padStart(2, '0'),
    ),
};
