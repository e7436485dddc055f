/**
 * libinjection-style detectors for @detectSQLi and @detectXSS, written here.
 *
 * SQLi: a SQL tokenizer in libinjection's manner (token classes s string, n bareword, 1 number,
 * k keyword, U union, E statement, B group/order by, f function, t type, o operator, & logic
 * operator, v variable, c comment, T T-SQL, ( ) , ; .), run in three quote contexts (as is, as if
 * inside a '…' string, as if inside a "…" string). Tokens are folded (unary operators dropped,
 * adjacent strings merged, inner comments dropped, multi-word keywords merged) into a fingerprint
 * of at most five tokens. libinjection looks fingerprints up in a table of ~9,000 known ones; we
 * classify them with a small set of structural rules instead (a string closed and followed by a
 * logic operator, a union followed by a select or a value, stacked statements, comments right
 * after a closed string, time-based functions...). The fingerprint is reported as libinjection
 * would (and set as TX:0 by the operator).
 *
 * XSS: an HTML5 tokenizer (data state and the three attribute-value states plus IE's back
 * quote) that flags blacklisted tags (script, iframe, svg*, xsl*, ...), event-handler attributes
 * (on*), style attributes, URL attributes whose value starts with javascript:, vbscript:, data:
 * or view-source:, DOCTYPEs and conditional or back-quoted comments.
 */

// ------------------------------------------------------------------------------------------ SQLi

type Tok = { t: string; v: string };

const KW: Record<string, string> = {};
function kw(type: string, words: string): void {
  for (const w of words.split(/\s+/).filter(Boolean)) KW[w] = type;
}
kw('E', 'SELECT INSERT UPDATE DELETE REPLACE CREATE ALTER DROP TRUNCATE EXEC EXECUTE DECLARE SHUTDOWN');
kw('U', 'UNION');
kw('k', 'EXCEPT INTERSECT');
kw('B', 'HAVING LIMIT');
kw('&', 'AND OR XOR');
kw('o', 'LIKE RLIKE REGEXP IS NOT IN DIV MOD SOUNDS BETWEEN ESCAPE');
kw('T', 'WAITFOR');
kw(
  'k',
  'FROM WHERE AS INTO VALUES TABLE NULL CASE WHEN THEN ELSE END ALL DISTINCT DISTINCTROW ON JOIN LEFT RIGHT INNER OUTER CROSS NATURAL BY ASC DESC OFFSET TOP DELAY PROCEDURE ANALYSE OUTFILE DUMPFILE SET USING EXISTS ANY SOME TRUE FALSE DATABASE SCHEMA DEFAULT INDEX KEY PRIMARY FOREIGN REFERENCES COLUMN COLUMNS TABLES UNIQUE LOCK UNLOCK OPENROWSET OPENQUERY OPENDATASOURCE GOTO SHUTDOWN RETURN BEGIN COMMIT ROLLBACK TRAN TRANSACTION',
);
kw(
  't',
  'INT INTEGER BIGINT SMALLINT TINYINT VARCHAR NVARCHAR CHARACTER BINARY VARBINARY SIGNED UNSIGNED DECIMAL NUMERIC FLOAT REAL DOUBLE DATE DATETIME TIME TIMESTAMP TEXT BLOB BOOLEAN',
);
kw(
  'f',
  'SLEEP BENCHMARK PG_SLEEP CHAR CHR NCHAR CONCAT CONCAT_WS SUBSTRING SUBSTR MID ASCII ORD HEX UNHEX CAST CONVERT COUNT VERSION USER CURRENT_USER SYSTEM_USER SESSION_USER EXTRACTVALUE UPDATEXML XMLTYPE IF IFNULL ISNULL NULLIF COALESCE LENGTH LEN LOAD_FILE MD5 SHA1 SHA2 RAND FLOOR CEIL ROUND NAME_CONST GROUP_CONCAT EXP POW POWER LOWER UPPER LCASE UCASE REVERSE REPEAT TRIM LTRIM RTRIM REPLACE INSTR LOCATE POSITION STRCMP CHAR_LENGTH BIT_LENGTH COMPRESS UNCOMPRESS ENCODE DECODE AES_ENCRYPT AES_DECRYPT DES_ENCRYPT PASSWORD OLD_PASSWORD ELT FIELD FIND_IN_SET MAKE_SET EXPORT_SET JSON_EXTRACT JSON_KEYS GTID_SUBSET ST_LATFROMGEOHASH POLYGON MULTIPOINT LINESTRING GEOMETRYCOLLECTION UTL_INADDR UTL_HTTP DBMS_PIPE DBMS_LOCK RECEIVE_MESSAGE SYS_CONTEXT DB_NAME OBJECT_ID SCHEMA_NAME HOST_NAME SUSER_NAME IS_SRVROLEMEMBER XP_CMDSHELL SP_EXECUTESQL TO_CHAR TO_NUMBER DATABASE SCHEMA NOW SYSDATE GETDATE ABS SIGN MAX MIN SUM AVG LEFT RIGHT',
);
const MULTI: Record<string, string> = {
  'UNION ALL': 'U',
  'UNION DISTINCT': 'U',
  'GROUP BY': 'B',
  'ORDER BY': 'B',
  'NOT IN': 'o',
  'NOT LIKE': 'o',
  'NOT BETWEEN': 'o',
  'IS NOT': 'o',
  'SOUNDS LIKE': 'o',
  'WAITFOR DELAY': 'T',
  'WAITFOR TIME': 'T',
  'SELECT ALL': 'E',
  'SELECT DISTINCT': 'E',
  'INSERT INTO': 'E',
  'DELETE FROM': 'E',
  'LEFT JOIN': 'k',
  'RIGHT JOIN': 'k',
  'INNER JOIN': 'k',
  'CROSS JOIN': 'k',
};
const DANGEROUS_FN = new Set([
  'SLEEP',
  'BENCHMARK',
  'PG_SLEEP',
  'EXTRACTVALUE',
  'UPDATEXML',
  'XMLTYPE',
  'LOAD_FILE',
  'NAME_CONST',
  'DBMS_PIPE',
  'UTL_INADDR',
  'UTL_HTTP',
  'XP_CMDSHELL',
  'SP_EXECUTESQL',
  'GTID_SUBSET',
  'JSON_KEYS',
  'EXP',
  'POLYGON',
  'ST_LATFROMGEOHASH',
  'CONVERT',
  'CAST',
  'CHAR',
  'CONCAT',
  'VERSION',
  'USER',
  'DATABASE',
]);
const TIME_FN = new Set([
  'SLEEP',
  'BENCHMARK',
  'PG_SLEEP',
  'EXTRACTVALUE',
  'UPDATEXML',
  'XMLTYPE',
  'LOAD_FILE',
  'NAME_CONST',
  'DBMS_PIPE',
  'UTL_INADDR',
  'UTL_HTTP',
  'XP_CMDSHELL',
  'SP_EXECUTESQL',
  'GTID_SUBSET',
]);

function isWordChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c >= 128
  );
}
function isWs(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 0xa0 || c === 0;
}

/** tokenizes `s`; `quote` is the context: '' none, or the quote the input is inside of */
export function sqlTokens(s: string, quote: '' | "'" | '"', max = 32): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const n = s.length;
  const readString = (q: string, start: number): number => {
    // returns index after the closing quote, or n when unterminated
    let j = start;
    while (j < n) {
      const k = s.indexOf(q, j);
      if (k < 0) return n;
      // escaped by an odd number of backslashes
      let b = 0;
      while (k - 1 - b >= start && s[k - 1 - b] === '\\') b++;
      if (b % 2 === 1) {
        j = k + 1;
        continue;
      }
      if (s[k + 1] === q) {
        j = k + 2;
        continue;
      }
      return k + 1;
    }
    return n;
  };
  if (quote) {
    const e = readString(quote, 0);
    out.push({ t: 's', v: s.slice(0, e) });
    i = e;
  }
  while (i < n && out.length < max) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (isWs(c)) {
      i++;
      continue;
    }
    if (ch === "'" || ch === '"') {
      const e = readString(ch, i + 1);
      out.push({ t: 's', v: s.slice(i, e) });
      i = e;
      continue;
    }
    if (ch === '`') {
      const e = s.indexOf('`', i + 1);
      const end = e < 0 ? n : e + 1;
      out.push({ t: 'n', v: s.slice(i, end) });
      i = end;
      continue;
    }
    if (ch === '#' || (ch === '-' && s[i + 1] === '-')) {
      const e = s.indexOf('\n', i);
      out.push({ t: 'c', v: s.slice(i, e < 0 ? n : e) });
      i = e < 0 ? n : e + 1;
      continue;
    }
    if (ch === '/' && s[i + 1] === '*') {
      const e = s.indexOf('*/', i + 2);
      if (s[i + 2] === '!') {
        // MySQL executable comment: its content is code
        i += 3;
        while (i < n && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) i++;
        continue;
      }
      out.push({ t: 'c', v: s.slice(i, e < 0 ? n : e + 2) });
      i = e < 0 ? n : e + 2;
      continue;
    }
    if (ch === '*' && s[i + 1] === '/') {
      i += 2;
      continue;
    }
    if (ch === '(' || ch === ')' || ch === ',' || ch === ';' || ch === '{' || ch === '}' || ch === ':') {
      out.push({ t: ch, v: ch });
      i++;
      continue;
    }
    if (ch === '\\') {
      out.push({ t: '\\', v: ch });
      i++;
      continue;
    }
    if (ch === '@') {
      let j = i + 1;
      if (s[j] === '@') j++;
      while (j < n && (isWordChar(s.charCodeAt(j)) || s[j] === '.')) j++;
      out.push({ t: 'v', v: s.slice(i, j) });
      i = j;
      continue;
    }
    if ((c >= 48 && c <= 57) || (ch === '.' && s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 57)) {
      let j = i;
      if (ch === '0' && (s[i + 1] === 'x' || s[i + 1] === 'X')) {
        j = i + 2;
        while (j < n && /[0-9a-fA-F]/.test(s[j]!)) j++;
      } else if (ch === '0' && (s[i + 1] === 'b' || s[i + 1] === 'B') && /[01]/.test(s[i + 2] ?? '')) {
        j = i + 2;
        while (j < n && (s[j] === '0' || s[j] === '1')) j++;
      } else {
        while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
        if (s[j] === '.') {
          j++;
          while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
        }
        if ((s[j] === 'e' || s[j] === 'E') && /[0-9+-]/.test(s[j + 1] ?? '')) {
          j += 2;
          while (j < n && s.charCodeAt(j) >= 48 && s.charCodeAt(j) <= 57) j++;
        }
      }
      out.push({ t: '1', v: s.slice(i, j) });
      i = j;
      continue;
    }
    if (isWordChar(c)) {
      let j = i;
      while (j < n && (isWordChar(s.charCodeAt(j)) || s[j] === '.')) j++;
      let w = s.slice(i, j);
      // a trailing dot belongs to the next token
      if (w.endsWith('.')) {
        w = w.replace(/\.+$/, '');
        j = i + w.length;
      }
      const up = w.toUpperCase();
      let t = KW[up] ?? (up.includes('.') ? KW[up.slice(up.lastIndexOf('.') + 1)] : undefined) ?? 'n';
      if (t === 'f') {
        // a function name not followed by ( is a bare word
        let k = j;
        while (k < n && isWs(s.charCodeAt(k))) k++;
        if (s[k] !== '(') t = 'n';
      }
      out.push({ t, v: up });
      i = j;
      continue;
    }
    // operators
    const two = s.slice(i, i + 2);
    const three = s.slice(i, i + 3);
    if (three === '<=>') {
      out.push({ t: 'o', v: three });
      i += 3;
      continue;
    }
    if (two === '&&' || two === '||') {
      out.push({ t: '&', v: two });
      i += 2;
      continue;
    }
    if (['!=', '<>', '<=', '>=', ':=', '<<', '>>', '!<', '!>', '==', '->'].includes(two)) {
      out.push({ t: 'o', v: two });
      i += 2;
      continue;
    }
    if ('=<>!+-*/%&|^~'.includes(ch)) {
      out.push({ t: 'o', v: ch });
      i++;
      continue;
    }
    if (ch === '.') {
      out.push({ t: '.', v: ch });
      i++;
      continue;
    }
    out.push({ t: '?', v: ch });
    i++;
  }
  return out;
}

/** folds tokens into libinjection-style fingerprint tokens (at most five) */
export function foldTokens(toks: Tok[]): Tok[] {
  const out: Tok[] = [];
  for (let i = 0; i < toks.length && out.length < 5; i++) {
    const tk = toks[i]!;
    const prev = out[out.length - 1];
    if (tk.t === 'c') {
      // a comment ends the fingerprint when it is the last token; inner comments are dropped
      if (toks.slice(i + 1).every((x) => x.t === 'c')) {
        out.push(tk);
        break;
      }
      continue;
    }
    if (tk.t === '?' || tk.t === '\\') {
      if (prev && tk.t === '\\') continue;
      out.push(tk);
      continue;
    }
    // unary operators
    if (tk.t === 'o' && (tk.v === '+' || tk.v === '-' || tk.v === '~' || tk.v === '!' || tk.v === 'NOT')) {
      if (!prev || 'o&(,kUEBT'.includes(prev.t)) continue;
    }
    if (prev) {
      if (tk.t === 's' && prev.t === 's') {
        prev.v += tk.v;
        continue;
      }
      const two = `${prev.v} ${tk.v}`;
      if (MULTI[two] && /^[kUEoB&Tnf]$/.test(prev.t)) {
        out[out.length - 1] = { t: MULTI[two]!, v: two };
        continue;
      }
      if (tk.t === 'o' && prev.t === 'o') continue;
      if (tk.t === '1' && prev.t === '1') continue;
    }
    // bare word or type followed by ( is a function call
    out.push({ ...tk });
  }
  // a bare word directly before ( acts as a function
  for (let i = 0; i + 1 < out.length; i++)
    if (out[i]!.t === 'n' && out[i + 1]!.t === '(') out[i] = { t: 'f', v: out[i]!.v };
  return out;
}

/** structural classification of a fingerprint in its quote context */
function isSqliFingerprint(fp: string, toks: Tok[], quote: string): boolean {
  if (fp.length < 2) return false;
  const dangerousCall = toks.some(
    (t, i) => t.t === 'f' && DANGEROUS_FN.has(t.v.replace(/^.*\./, '')) && toks[i + 1]?.t === '(',
  );
  const timeCall = toks.some(
    (t, i) => t.t === 'f' && TIME_FN.has(t.v.replace(/^.*\./, '')) && toks[i + 1]?.t === '(',
  );
  // a time-based or out-of-band function call at the start or after a closed value
  if (timeCall && /^(?:[s1)]*[&o;]*)?f\(/.test(fp)) return true;
  if (timeCall && /^[s1)]+[&o;,]+f/.test(fp)) return true;
  // union followed by a statement, a value or a function
  if (
    /U[k(]*[E1vfs(]/.test(fp) &&
    /^(?:[s1n)]|o?[n1]|c)/.test(fp) &&
    (quote !== '' || /^[1)]|^\(|^o?n?1?o?U|1o?U/.test(fp))
  )
    return true;
  // a value then union: followed by a select/value, or cut off by the five-token limit
  if (
    /^[1n]o?U[k(]*[E1vsf(]/.test(fp) ||
    /1U/.test(fp) ||
    /1oU$/.test(fp) ||
    /1oU[k(]*[E1vsf(]/.test(fp) ||
    /\)o?U$/.test(fp)
  )
    return true;
  // stacked statement or T-SQL after a closed value
  if (/^[s1n]\)*;+[ETk]/.test(fp) || /^[s1]\)*T/.test(fp)) return true;
  if (quote !== '') {
    // closed string then: logic operator, comparison/arithmetic operator, comment, statement, function
    // (an operator word followed by a bare word is prose: `", or a modification`)
    const m = /^s\)*([&o])(.)(.?)/.exec(fp);
    if (m) {
      const opTok = toks[fp.indexOf(m[1]!)]!;
      const [next, after] = [m[2]!, m[3]!];
      if (m[1] === '&') {
        if ('1fv('.includes(next) || (next === 's' && after !== '' && 'o&c;'.includes(after))) return true;
      } else if (/^(?:\|\|?|&&)$/.test(opTok.v)) return true;
      else if (/^(?:=|!=|<>|<=|>=|<|>|<=>|LIKE|RLIKE|REGEXP|IS)$/.test(opTok.v)) {
        if ('s1fv('.includes(next)) return true;
      } else if ('f('.includes(next)) return true;
    }
    if (/^s\)*c$/.test(fp) || /^s\)*;c$/.test(fp)) return true;
    if (/^s\)*(?:E|\(E)/.test(fp)) return true;
    const f = /^s\)*f\(/.exec(fp);
    if (f && KW[toks[f[0].length - 2]!.v] === 'f') return true;
    if (/^s\)*B/.test(fp)) return true;
  } else {
    // numeric context: 1 or 1=1, 1 and sleep(), 1) or (1
    if (/^1\)*&(?:[sfv(]|1(?:[o&c;)]|$))/.test(fp)) return true;
    if (/^1\)*&+[1sv]o[1sv]/.test(fp)) return true;
    if (/^1\)*;E/.test(fp) || (/^1\)*c$/.test(fp) === false && /^1\)*B1/.test(fp))) return true;
    if (dangerousCall && /^f\(/.test(fp) && timeCall) return true;
    if (/^\(*E(?:[1nfvs]|o)[k,]/.test(fp)) return true;
  }
  return false;
}

// A value of only word characters, blanks, dots and commas, without any keyword of the classes
// the rules look at (logic, operator words, union, statements, T-SQL, group/order by), can only
// fold to fingerprints of n, 1, k, t and punctuation, none of which is classified as SQLi: the
// tokenizer is skipped for it (an exact shortcut, not a heuristic).
const PLAIN = /^[A-Za-z0-9_$\s.,\x80-\xff]*$/;
let SIGNIFICANT: RegExp | null = null;
function significantWords(): RegExp {
  if (!SIGNIFICANT) {
    const words = Object.entries(KW)
      .filter(([, t]) => '&UETBo'.includes(t))
      .map(([w]) => w);
    SIGNIFICANT = new RegExp(
      `(?:^|[^A-Za-z0-9_$\\x80-\\xff])(?:${words.join('|')})(?![A-Za-z0-9_$\\x80-\\xff])`,
      'i',
    );
  }
  return SIGNIFICANT;
}

/** libinjection_sqli: the fingerprint when `s` looks like SQL injection, else null */
export function detectSqli(s: string): string | null {
  if (s.length === 0) return null;
  if (PLAIN.test(s) && !significantWords().test(s)) return null;
  const contexts: ('' | "'" | '"')[] = [''];
  if (s.includes("'")) contexts.push("'");
  if (s.includes('"')) contexts.push('"');
  for (const q of contexts) {
    const toks = foldTokens(sqlTokens(s, q));
    const fp = toks.map((t) => t.t).join('');
    if (isSqliFingerprint(fp, toks, q)) return fp;
  }
  return null;
}

// ------------------------------------------------------------------------------------------ XSS

const BLACK_TAGS = new Set([
  'APPLET',
  'BASE',
  'COMMENT',
  'EMBED',
  'FRAME',
  'FRAMESET',
  'HANDLER',
  'IFRAME',
  'IMPORT',
  'ISINDEX',
  'LINK',
  'LISTENER',
  'META',
  'NOSCRIPT',
  'OBJECT',
  'SCRIPT',
  'STYLE',
  'VMLFRAME',
  'XML',
  'XSS',
]);
const URL_ATTRS = new Set([
  'ACTION',
  'BACKGROUND',
  'CODEBASE',
  'DYNSRC',
  'FORMACTION',
  'HREF',
  'LOWSRC',
  'POSTER',
  'SRC',
  'DATA',
  'XLINK:HREF',
  'FROM',
  'TO',
  'VALUES',
  'BY',
  'FOLDER',
  'XMLNS',
  'XMLNS:XLINK',
  'XLINK',
]);
const BLACK_ATTRS = new Set(['STYLE', 'ATTRIBUTENAME', 'SRCDOC', 'FILTER']);

function stripForUrl(v: string): string {
  // ignore leading whitespace and control characters, and characters browsers drop inside the scheme
  return (
    v
      // eslint-disable-next-line no-control-regex
      .replace(/^[\x00-\x20\x7f-\xa0]+/, '')
      .replace(/[\t\n\r\0]/g, '')
      .toLowerCase()
  );
}

function isBadUrl(v: string): boolean {
  const u = stripForUrl(v);
  return (
    u.startsWith('javascript:') ||
    u.startsWith('vbscript:') ||
    u.startsWith('data:') ||
    u.startsWith('view-source:')
  );
}

type State = 'data' | 'noquote' | "'" | '"' | '`';

/** scans `s` as HTML starting in `state`; true on a dangerous construct */
function htmlScan(s: string, state: State): boolean {
  const n = s.length;
  let i = 0;
  let inTag = false;
  let attr: string;
  if (state !== 'data') {
    // inside an attribute value: it ends at the quote (or at blank / > when unquoted)
    if (state === 'noquote') {
      while (i < n && !isWs(s.charCodeAt(i)) && s[i] !== '>') i++;
    } else {
      const e = s.indexOf(state, 0);
      if (e < 0) return false;
      i = e + 1;
    }
    inTag = true;
  }
  while (i < n) {
    if (!inTag) {
      const lt = s.indexOf('<', i);
      if (lt < 0) return false;
      i = lt + 1;
      const c = s[i];
      if (c === undefined) return false;
      if (c === '!') {
        if (s.startsWith('--', i + 1)) {
          const e = s.indexOf('-->', i + 3);
          const body = s.slice(i + 3, e < 0 ? n : e);
          if (body.includes('`') || /^\s*\[if/i.test(body) || /^\s*(?:import|xml|entity)/i.test(body))
            return true;
          i = e < 0 ? n : e + 3;
          continue;
        }
        if (
          /^doctype/i.test(s.slice(i + 1, i + 8)) ||
          /^entity/i.test(s.slice(i + 1, i + 7)) ||
          /^\[cdata\[/i.test(s.slice(i + 1, i + 8))
        )
          return true;
        const e = s.indexOf('>', i);
        i = e < 0 ? n : e + 1;
        continue;
      }
      if (c === '?') {
        const e = s.indexOf('>', i);
        const body = s.slice(i + 1, e < 0 ? n : e);
        if (/^xml/i.test(body) && /stylesheet|import/i.test(body)) return true;
        i = e < 0 ? n : e + 1;
        continue;
      }
      let j = i;
      if (c === '/') j++;
      if (!/[A-Za-z]/.test(s[j] ?? '')) continue;
      const st = j;
      while (j < n && !isWs(s.charCodeAt(j)) && s[j] !== '/' && s[j] !== '>') j++;
      const name = s.slice(st, j).toUpperCase();
      // a namespace prefix (x:script) does not hide the element
      const local = name.includes(':') ? name.slice(name.lastIndexOf(':') + 1) : name;
      if (
        c !== '/' &&
        (BLACK_TAGS.has(name) ||
          BLACK_TAGS.has(local) ||
          name.startsWith('SVG') ||
          name.startsWith('XSL') ||
          local.startsWith('SVG'))
      )
        return true;
      i = j;
      inTag = true;
      continue;
    }
    // inside a tag: attributes
    const c = s[i]!;
    if (isWs(c.charCodeAt(0)) || c === '/') {
      i++;
      continue;
    }
    if (c === '>') {
      inTag = false;
      i++;
      continue;
    }
    let j = i;
    while (j < n && !isWs(s.charCodeAt(j)) && s[j] !== '/' && s[j] !== '>' && s[j] !== '=') j++;
    if (j === i) j = i + 1;
    attr = s.slice(i, j).toUpperCase();
    // as libinjection: an attribute counts only with a value
    const black =
      (attr.length >= 5 && (attr.startsWith('ON') || attr.startsWith('XMLNS') || attr.startsWith('XLINK'))) ||
      BLACK_ATTRS.has(attr);
    i = j;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    if (s[i] !== '=') continue;
    i++;
    while (i < n && isWs(s.charCodeAt(i))) i++;
    let value: string;
    const q = s[i];
    if (q === '"' || q === "'" || q === '`') {
      const e = s.indexOf(q, i + 1);
      value = s.slice(i + 1, e < 0 ? n : e);
      i = e < 0 ? n : e + 1;
    } else {
      let k = i;
      while (k < n && !isWs(s.charCodeAt(k)) && s[k] !== '>') k++;
      value = s.slice(i, k);
      i = k;
    }
    if (black) return true;
    const local = attr.includes(':') ? attr.slice(attr.lastIndexOf(':') + 1) : attr;
    if ((URL_ATTRS.has(attr) || URL_ATTRS.has(local)) && isBadUrl(value)) return true;
  }
  return false;
}

/** libinjection_xss: whether `s` contains HTML/JS that could run in a browser */
export function detectXss(s: string): boolean {
  if (s.length === 0) return false;
  const states: State[] = ['data', 'noquote', "'", '"', '`'];
  for (const st of states) if (htmlScan(s, st)) return true;
  return false;
}
