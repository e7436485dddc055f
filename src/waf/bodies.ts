/**
 * Request parsing into ModSecurity's variables: query/urlencoded arguments, cookies, multipart
 * (files, part headers, strict-error flags), JSON (json.a.b names) and XML (text and attribute
 * values). Everything is a latin1 byte string.
 */
import { uriDecode, urlDecode } from './transforms.js';

export type KV = [string, string];

export function parseUrlencoded(s: string, out: KV[]): void {
  if (s === '') return;
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    out.push([urlDecode(k), urlDecode(v)]);
  }
}

export function parseCookies(header: string, out: KV[]): void {
  for (const part of header.split(';')) {
    const p = part.replace(/^[ \t]+/, '');
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq < 0) out.push([p, '']);
    else out.push([p.slice(0, eq), p.slice(eq + 1)]);
  }
}

export interface MultipartResult {
  args: KV[];
  files: KV[]; // field name -> file name
  filesSizes: KV[];
  partHeaders: KV[];
  strictError: boolean;
  unmatchedBoundary: boolean;
  error?: string;
  flags: Record<string, number>;
}

export function parseMultipart(body: string, contentType: string): MultipartResult {
  const r: MultipartResult = {
    args: [],
    files: [],
    filesSizes: [],
    partHeaders: [],
    strictError: false,
    unmatchedBoundary: false,
    flags: {
      MULTIPART_BOUNDARY_QUOTED: 0,
      MULTIPART_BOUNDARY_WHITESPACE: 0,
      MULTIPART_DATA_AFTER: 0,
      MULTIPART_DATA_BEFORE: 0,
      MULTIPART_HEADER_FOLDING: 0,
      MULTIPART_LF_LINE: 0,
      MULTIPART_MISSING_SEMICOLON: 0,
      MULTIPART_INVALID_QUOTING: 0,
      MULTIPART_INVALID_PART: 0,
      MULTIPART_INVALID_HEADER_FOLDING: 0,
      MULTIPART_FILE_LIMIT_EXCEEDED: 0,
      MULTIPART_CRLF_LINE: 0,
    },
  };
  const m = /boundary\s*=\s*("([^"]*)"|[^;,\s]+)/i.exec(contentType);
  if (!m) {
    r.error = 'Multipart: Boundary not found in C-T';
    r.strictError = true;
    return r;
  }
  if (m[2] !== undefined) r.flags.MULTIPART_BOUNDARY_QUOTED = 1;
  const boundary = m[2] ?? m[1]!;
  if (/\s/.test(boundary)) r.flags.MULTIPART_BOUNDARY_WHITESPACE = 1;
  const delim = '--' + boundary;
  let pos = body.indexOf(delim);
  if (pos < 0) {
    r.error = 'Multipart: final boundary missing';
    r.strictError = true;
    return r;
  }
  if (pos > 0 && body.slice(0, pos).trim() !== '') r.flags.MULTIPART_DATA_BEFORE = 1;
  let finished = false;
  while (pos >= 0) {
    let start = pos + delim.length;
    if (body.startsWith('--', start)) {
      finished = true;
      if (body.slice(start + 2).trim() !== '') r.flags.MULTIPART_DATA_AFTER = 1;
      break;
    }
    if (body.startsWith('\r\n', start)) {
      start += 2;
      r.flags.MULTIPART_CRLF_LINE = 1;
    } else if (body[start] === '\n') {
      start += 1;
      r.flags.MULTIPART_LF_LINE = 1;
    } else {
      r.flags.MULTIPART_INVALID_PART = 1;
    }
    let next = body.indexOf('\n' + delim, start);
    if (next < 0) {
      r.unmatchedBoundary = false;
      r.error = 'Multipart: final boundary missing';
      r.flags.MULTIPART_INVALID_PART = 1;
      next = body.length;
    }
    let part = body.slice(start, next);
    if (part.endsWith('\r')) part = part.slice(0, -1);
    // headers
    let hEnd = part.indexOf('\r\n\r\n');
    let sepLen = 4;
    if (hEnd < 0) {
      hEnd = part.indexOf('\n\n');
      sepLen = 2;
    }
    if (hEnd < 0) {
      r.flags.MULTIPART_INVALID_PART = 1;
      hEnd = part.length;
      sepLen = 0;
    }
    const hText = part.slice(0, hEnd);
    const data = part.slice(hEnd + sepLen);
    const lines = hText.split(/\r?\n/);
    const headers: string[] = [];
    for (const l of lines) {
      if (l === '') continue;
      if (/^[ \t]/.test(l) && headers.length) {
        r.flags.MULTIPART_HEADER_FOLDING = 1;
        headers[headers.length - 1] += ' ' + l.trim();
      } else headers.push(l);
    }
    let name: string | undefined;
    let filename: string | undefined;
    for (const h of headers) {
      const c = h.indexOf(':');
      if (c < 0) {
        r.flags.MULTIPART_INVALID_PART = 1;
        continue;
      }
      const hn = h.slice(0, c).trim().toLowerCase();
      const hv = h.slice(c + 1).trim();
      if (hn === 'content-disposition') {
        if (!/^form-data\b/i.test(hv)) r.flags.MULTIPART_INVALID_PART = 1;
        const params = hv.slice(hv.indexOf(';') + 1);
        if (!hv.includes(';')) r.flags.MULTIPART_MISSING_SEMICOLON = 1;
        const re = /([a-zA-Z*]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]*))/g;
        let pm: RegExpExecArray | null;
        while ((pm = re.exec(params))) {
          const k = pm[1]!.toLowerCase();
          let v = pm[2] !== undefined ? pm[2].replace(/\\(["\\])/g, '$1') : pm[3]!.trim();
          if (pm[3] !== undefined && /['"]/.test(v)) r.flags.MULTIPART_INVALID_QUOTING = 1;
          if (k === 'name') name = v;
          else if (k === 'filename' || k === 'filename*') {
            if (k === 'filename*') v = v.replace(/^[^']*'[^']*'/, '');
            filename = v;
          }
        }
      }
    }
    if (name !== undefined) for (const h of headers) r.partHeaders.push([name, h]);
    if (name === undefined) r.flags.MULTIPART_INVALID_PART = 1;
    else if (filename !== undefined) {
      r.files.push([name, filename]);
      r.filesSizes.push([name, String(data.length)]);
    } else r.args.push([name, data]);
    pos = next < body.length ? next + 1 : -1;
  }
  if (!finished) r.error ??= 'Multipart: final boundary missing';
  const f = r.flags;
  r.strictError =
    r.error !== undefined ||
    !!(
      f.MULTIPART_BOUNDARY_QUOTED ||
      f.MULTIPART_BOUNDARY_WHITESPACE ||
      f.MULTIPART_DATA_BEFORE ||
      f.MULTIPART_DATA_AFTER
    ) ||
    !!(
      f.MULTIPART_HEADER_FOLDING ||
      f.MULTIPART_LF_LINE ||
      f.MULTIPART_MISSING_SEMICOLON ||
      f.MULTIPART_INVALID_QUOTING
    ) ||
    !!(f.MULTIPART_INVALID_PART || f.MULTIPART_INVALID_HEADER_FOLDING || f.MULTIPART_FILE_LIMIT_EXCEEDED);
  return r;
}

function toBytes(s: string): string {
  // JSON.parse of a latin1 string keeps bytes; characters above 0xff come from \u escapes
  // and are stored as their UTF-8 bytes, as a C JSON parser would
  // eslint-disable-next-line no-control-regex
  return /[^\x00-\xff]/.test(s) ? Buffer.from(s, 'utf8').toString('latin1') : s;
}

export function parseJson(body: string, out: KV[], maxDepth = 512): string | undefined {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch (e) {
    return `JSON parsing error: ${(e as Error).message}`;
  }
  const walk = (x: unknown, prefix: string, depth: number): string | undefined => {
    if (depth > maxDepth) return 'JSON depth limit exceeded';
    if (Array.isArray(x)) {
      x.forEach((y, i) => walk(y, `${prefix}.${i}`, depth + 1));
      if (x.length === 0) out.push([prefix, '']);
    } else if (x !== null && typeof x === 'object') {
      const entries = Object.entries(x as Record<string, unknown>);
      for (const [k, y] of entries) walk(y, `${prefix}.${toBytes(k)}`, depth + 1);
      if (entries.length === 0) out.push([prefix, '']);
    } else out.push([prefix, x === null ? '' : toBytes(String(x))]);
    return undefined;
  };
  return walk(v, 'json', 0);
}

export interface XmlResult {
  text: string; // root element text content
  attrs: string[];
  error?: string;
}

const XML_ENT: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
function xmlUnescape(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, e: string) => {
    if (e[0] === '#') {
      const n = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
      return Buffer.from(String.fromCodePoint(n), 'utf8').toString('latin1');
    }
    return XML_ENT[e] ?? m;
  });
}

/** Small well-formedness-checking XML reader: collects text content and attribute values. */
export function parseXml(body: string): XmlResult {
  const r: XmlResult = { text: '', attrs: [] };
  const stack: string[] = [];
  let i = 0;
  const n = body.length;
  let sawRoot = false;
  let text = '';
  while (i < n) {
    const lt = body.indexOf('<', i);
    if (lt < 0) {
      if (body.slice(i).trim() !== '') return { ...r, error: 'XML: content after document' };
      break;
    }
    if (stack.length) text += xmlUnescape(body.slice(i, lt));
    else if (body.slice(i, lt).trim() !== '') return { ...r, error: 'XML: text outside the root element' };
    if (body.startsWith('<?', lt)) {
      const e = body.indexOf('?>', lt);
      if (e < 0) return { ...r, error: 'XML: unterminated processing instruction' };
      i = e + 2;
    } else if (body.startsWith('<!--', lt)) {
      const e = body.indexOf('-->', lt);
      if (e < 0) return { ...r, error: 'XML: unterminated comment' };
      i = e + 3;
    } else if (body.startsWith('<![CDATA[', lt)) {
      const e = body.indexOf(']]>', lt);
      if (e < 0) return { ...r, error: 'XML: unterminated CDATA' };
      if (stack.length) text += body.slice(lt + 9, e);
      i = e + 3;
    } else if (body.startsWith('<!', lt)) {
      // DOCTYPE (possibly with an internal subset)
      let depth = 0;
      let j = lt + 2;
      for (; j < n; j++) {
        if (body[j] === '[') depth++;
        else if (body[j] === ']') depth--;
        else if (body[j] === '>' && depth <= 0) break;
      }
      i = j + 1;
    } else if (body[lt + 1] === '/') {
      const e = body.indexOf('>', lt);
      if (e < 0) return { ...r, error: 'XML: unterminated end tag' };
      const name = body.slice(lt + 2, e).trim();
      if (stack.pop() !== name) return { ...r, error: `XML: mismatched end tag ${name}` };
      i = e + 1;
    } else {
      const m = /^<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(
        body.slice(lt, lt + 65536),
      );
      if (!m) return { ...r, error: 'XML: malformed start tag' };
      if (stack.length === 0) {
        if (sawRoot) return { ...r, error: 'XML: more than one root element' };
        sawRoot = true;
      }
      for (const a of m[2]!.matchAll(/[^\s=]+\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
        r.attrs.push(xmlUnescape(a[1] ?? a[2] ?? ''));
      if (!m[3]) stack.push(m[1]!);
      i = lt + m[0].length;
    }
  }
  if (stack.length) return { ...r, error: 'XML: premature end of data' };
  if (!sawRoot) return { ...r, error: 'XML: document is empty' };
  r.text = text;
  return r;
}

export { uriDecode };
