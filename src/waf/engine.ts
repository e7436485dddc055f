/**
 * The transaction engine: one request (and optionally its response) evaluated against a compiled
 * rule set, phase by phase, with ModSecurity v3 semantics over latin1 byte strings: variables and
 * collections, exclusions, transformations (cached per value), operators, chains, setvar/TX,
 * skip/skipAfter, ctl actions, disruptive actions and DetectionOnly.
 */
import type { DefaultActions, PhaseItem, Rule, RuleSet, SetVar, Target } from './rules.js';
import { parseTargets } from './rules.js';
import { parseCookies, parseJson, parseMultipart, parseUrlencoded, parseXml, type KV } from './bodies.js';
import { uriDecode } from './transforms.js';

export interface WafRequest {
  method: string;
  /** request target exactly as received (latin1) */
  uri: string;
  /** e.g. HTTP/1.1 */
  protocol: string;
  headers: [string, string][];
  /** request body bytes as a latin1 string */
  body?: string;
  remoteAddr?: string;
  remotePort?: number;
  serverPort?: number;
}

export interface WafResponse {
  status: number;
  protocol?: string;
  headers: [string, string][];
  body?: string;
}

export interface MatchRecord {
  id: number;
  phase: number;
  msg?: string;
  data?: string;
  severity?: string;
  tags: string[];
  /** logged to the error log (log action, explicit or by default) */
  logged: boolean;
}

export interface Intervention {
  status: number;
  ruleId: number;
  action: 'deny' | 'drop' | 'redirect';
  url?: string;
}

interface Var {
  name: string;
  value: string;
}

const EMPTY: Var[] = [];
/** per rule: the signature of its target list, or null when it reads TX / MATCHED_* */
const SIGS = new WeakMap<Rule, string | null>();

interface TList {
  tvs: string[];
  /** per value: ids of the pre-filter literals it contains */
  found: number[][] | null;
  /** bit set of the literals found in any value */
  union: Uint32Array | null;
}
const SCALARS_EMPTY = new Set([
  'AUTH_TYPE',
  'PATH_INFO',
  'SESSIONID',
  'USERID',
  'WEBSERVER_ERROR_LOG',
  'INBOUND_DATA_ERROR',
  'OUTBOUND_DATA_ERROR',
]);

let uniqueCounter = 0;

export class Transaction {
  readonly matches: MatchRecord[] = [];
  intervention: Intervention | null = null;
  engine: 'On' | 'Off' | 'DetectionOnly';
  readonly tx = new Map<string, string>(); // lowercased name -> value
  private txNames = new Map<string, string>(); // lowercased name -> name as written
  private removedIds = new Set<number>();
  private removedRanges: ((id: number) => boolean)[] = [];
  private removedTags = new Set<string>();
  private targetExcl: { pred: (r: Rule) => boolean; t: Target }[] = [];
  private argsGet: KV[] = [];
  private argsPost: KV[] = [];
  private cookies: KV[] = [];
  private files: KV[] = [];
  private filesSizes: KV[] = [];
  private partHeaders: KV[] = [];
  private xmlText: string[] = [];
  private xmlAttrs: string[] = [];
  private scalars = new Map<string, string>();
  private reqBodyProcessor = '';
  private forceBodyVar = false;
  private bodyAccess: boolean;
  private response: WafResponse | null = null;
  private matchedVars: Var[] = [];
  private matchedVar: Var | null = null;
  private currentRule: Rule | null = null;
  private headRule: Rule | null = null;
  private allowAll = false;
  private allowRequest = false;
  private tcache = new Map<string, Map<string, string>>();
  private varCache = new Map<Target, { ver: number; vars: Var[] }>();
  private sigVarCache = new Map<string, { ver: number; vars: Var[] }>();
  private tlistCache = new WeakMap<Var[], Map<string, TList>>();
  private litCache = new Map<string, number[]>();
  private paramCache = new Map<Rule, { tv: number; dv: number; p: string }>();
  /** bumped whenever request/response data or TX change (target caches check them) */
  private dataVersion = 0;
  private txVersion = 0;
  private uriPath = '';
  readonly uniqueId: string;
  private phaseDone = 0;

  constructor(
    readonly rs: RuleSet,
    readonly req: WafRequest,
  ) {
    this.engine = rs.engine;
    this.bodyAccess = rs.requestBodyAccess;
    this.uniqueId =
      `${Date.now().toString(36)}${process.pid.toString(36)}${(++uniqueCounter).toString(36)}`.padEnd(
        20,
        '0',
      );
    this.setupRequestLine();
  }

  // ---------------------------------------------------------------------------- request variables

  private setupRequestLine(): void {
    const r = this.req;
    let target = r.uri;
    const s = this.scalars;
    s.set('REQUEST_URI_RAW', target);
    const abs = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/[^/?#]*/.exec(target);
    if (abs) target = target.slice(abs[0].length) || '/';
    const q = target.indexOf('?');
    const path = q < 0 ? target : target.slice(0, q);
    const qs = q < 0 ? '' : target.slice(q + 1);
    const dpath = uriDecode(path);
    this.uriPath = path;
    s.set('REQUEST_URI', uriDecode(target));
    s.set('REQUEST_FILENAME', dpath);
    s.set('PATH_INFO', '');
    const slash = dpath.lastIndexOf('/');
    s.set('REQUEST_BASENAME', slash < 0 ? dpath : dpath.slice(slash + 1));
    s.set('QUERY_STRING', qs);
    s.set('REQUEST_METHOD', r.method);
    s.set('REQUEST_PROTOCOL', r.protocol);
    s.set('REQUEST_LINE', `${r.method} ${r.uri} ${r.protocol}`);
    s.set('REMOTE_ADDR', r.remoteAddr ?? '127.0.0.1');
    s.set('REMOTE_HOST', r.remoteAddr ?? '127.0.0.1');
    s.set('REMOTE_PORT', String(r.remotePort ?? 0));
    s.set('SERVER_ADDR', '127.0.0.1');
    s.set('SERVER_PORT', String(r.serverPort ?? 80));
    const host = this.header('host') ?? '';
    s.set('SERVER_NAME', host.replace(/:\d+$/, ''));
    s.set('UNIQUE_ID', this.uniqueId);
    s.set('REQBODY_ERROR', '0');
    s.set('REQBODY_PROCESSOR_ERROR', '0');
    s.set('MULTIPART_STRICT_ERROR', '0');
    s.set('MULTIPART_UNMATCHED_BOUNDARY', '0');
    s.set('HIGHEST_SEVERITY', '255');
    parseUrlencoded(qs, this.argsGet);
    for (const [k, v] of r.headers) if (k.toLowerCase() === 'cookie') parseCookies(v, this.cookies);
    const ct = (this.header('content-type') ?? '').toLowerCase();
    if (ct.startsWith('application/x-www-form-urlencoded')) this.reqBodyProcessor = 'URLENCODED';
    else if (ct.startsWith('multipart/form-data')) this.reqBodyProcessor = 'MULTIPART';
    if (this.reqBodyProcessor) s.set('REQBODY_PROCESSOR', this.reqBodyProcessor);
    this.updateArgsSizes();
  }

  private header(name: string): string | undefined {
    for (const [k, v] of this.req.headers) if (k.toLowerCase() === name) return v;
    return undefined;
  }

  private updateArgsSizes(): void {
    let n = 0;
    for (const [k, v] of this.argsGet) n += k.length + v.length;
    for (const [k, v] of this.argsPost) n += k.length + v.length;
    this.scalars.set('ARGS_COMBINED_SIZE', String(n));
  }

  private processBody(): void {
    this.dataVersion++;
    const body = this.req.body ?? '';
    const s = this.scalars;
    s.set('REQUEST_BODY_LENGTH', String(body.length));
    if (!this.bodyAccess) return;
    const proc = this.reqBodyProcessor;
    let err: string | undefined;
    if (proc === 'URLENCODED') {
      parseUrlencoded(body, this.argsPost);
      s.set('REQUEST_BODY', body);
    } else if (proc === 'MULTIPART') {
      const m = parseMultipart(body, this.header('content-type') ?? '');
      this.argsPost.push(...m.args);
      this.files.push(...m.files);
      this.filesSizes.push(...m.filesSizes);
      this.partHeaders.push(...m.partHeaders);
      let total = 0;
      for (const [, v] of m.filesSizes) total += Number(v);
      s.set('FILES_COMBINED_SIZE', String(total));
      for (const [k, v] of Object.entries(m.flags)) s.set(k, String(v));
      s.set('MULTIPART_STRICT_ERROR', m.strictError ? '1' : '0');
      s.set('MULTIPART_UNMATCHED_BOUNDARY', m.unmatchedBoundary ? '1' : '0');
      if (m.error) {
        err = m.error;
        s.set('MULTIPART_ERROR', '1');
      }
      if (m.files.length) s.set('MULTIPART_FILENAME', m.files[m.files.length - 1]![1]);
      if (this.forceBodyVar) s.set('REQUEST_BODY', body);
    } else if (proc === 'JSON') {
      if (body !== '') err = parseJson(body, this.argsPost, 10000);
      s.set('REQUEST_BODY', body);
    } else if (proc === 'XML') {
      const x = parseXml(body);
      if (x.error) err = x.error;
      else {
        this.xmlText.push(x.text);
        this.xmlAttrs.push(...x.attrs);
      }
      if (this.forceBodyVar) s.set('REQUEST_BODY', body);
    } else {
      s.set('REQUEST_BODY', body);
    }
    if (err !== undefined) {
      s.set('REQBODY_ERROR', '1');
      s.set('REQBODY_PROCESSOR_ERROR', '1');
      s.set('REQBODY_ERROR_MSG', err);
      s.set('REQBODY_PROCESSOR_ERROR_MSG', err);
    }
    if (this.argsGet.length + this.argsPost.length > this.rs.argumentsLimit) {
      this.argsPost.length = Math.max(0, this.rs.argumentsLimit - this.argsGet.length);
    }
    this.updateArgsSizes();
  }

  /** values of a collection as [key, value] with the key spelled as received */
  private collection(coll: string): KV[] | null {
    switch (coll) {
      case 'ARGS':
        return this.argsGet.concat(this.argsPost);
      case 'ARGS_GET':
        return this.argsGet;
      case 'ARGS_POST':
        return this.argsPost;
      case 'ARGS_NAMES':
        return this.argsGet.concat(this.argsPost).map(([k]) => [k, k]);
      case 'ARGS_GET_NAMES':
        return this.argsGet.map(([k]) => [k, k]);
      case 'ARGS_POST_NAMES':
        return this.argsPost.map(([k]) => [k, k]);
      case 'REQUEST_HEADERS':
        return this.req.headers;
      case 'REQUEST_HEADERS_NAMES':
        return this.req.headers.map(([k]) => [k, k]);
      case 'REQUEST_COOKIES':
        return this.cookies;
      case 'REQUEST_COOKIES_NAMES':
        return this.cookies.map(([k]) => [k, k]);
      case 'RESPONSE_HEADERS':
        return this.response?.headers ?? [];
      case 'RESPONSE_HEADERS_NAMES':
        return (this.response?.headers ?? []).map(([k]) => [k, k]);
      case 'FILES':
      case 'MULTIPART_FILENAME_ALL':
        return this.files;
      case 'FILES_NAMES':
        return this.files.map(([k]) => [k, k]);
      case 'FILES_SIZES':
        return this.filesSizes;
      case 'FILES_TMPNAMES':
      case 'FILES_TMP_CONTENT':
        return [];
      case 'MULTIPART_PART_HEADERS':
        return this.partHeaders;
      case 'TX': {
        const out: KV[] = [];
        for (const [k, v] of this.tx) out.push([this.txNames.get(k) ?? k, v]);
        return out;
      }
      case 'ENV':
      case 'IP':
      case 'GLOBAL':
      case 'SESSION':
      case 'USER':
      case 'RESOURCE':
      case 'GEO':
      case 'RULE':
        return [];
      default:
        return null;
    }
  }

  /** resolves one target to its values, before exclusions */
  /** resolves a target, cached per transaction until the data it reads changes */
  private resolve(t: Target, rule: Rule | null): Var[] {
    const coll = t.coll;
    if (coll === 'TX') {
      if (t.key !== undefined && !t.keyRe) {
        const v = this.tx.get(t.key);
        if (v === undefined) return EMPTY;
        const c = this.varCache.get(t);
        if (c !== undefined && c.vars[0]!.value === v) return c.vars;
        const vars = [{ name: `TX:${this.txNames.get(t.key) ?? t.key}`, value: v }];
        this.varCache.set(t, { ver: -1, vars });
        return vars;
      }
    } else if (coll.startsWith('MATCHED_') || coll === 'RULE') return this.resolveUncached(t, rule);
    const ver = coll === 'TX' ? this.txVersion : this.dataVersion;
    const c = this.varCache.get(t);
    if (c !== undefined && c.ver === ver) return c.vars;
    const vars = this.resolveUncached(t, rule);
    this.varCache.set(t, { ver, vars });
    return vars;
  }

  private resolveUncached(t: Target, rule: Rule | null): Var[] {
    const coll = t.coll;
    if (coll === 'XML') {
      const k = t.key ?? '';
      if (k.includes('@')) return this.xmlAttrs.map((v) => ({ name: 'XML', value: v }));
      return this.xmlText.map((v) => ({ name: 'XML', value: v }));
    }
    if (coll === 'MATCHED_VARS' || coll === 'MATCHED_VARS_NAMES') {
      const names = coll === 'MATCHED_VARS_NAMES';
      return this.filterKeys(
        this.matchedVars.map((m) => [m.name, names ? m.name : m.value] as KV),
        t,
        coll,
      );
    }
    if (coll === 'MATCHED_VAR')
      return this.matchedVar ? [{ name: 'MATCHED_VAR', value: this.matchedVar.value }] : [];
    if (coll === 'MATCHED_VAR_NAME')
      return this.matchedVar ? [{ name: 'MATCHED_VAR_NAME', value: this.matchedVar.name }] : [];
    if (coll === 'RULE') {
      const k = t.key ?? '';
      const v = rule ? ruleField(rule, k) : undefined;
      return v === undefined ? [] : [{ name: `RULE:${k}`, value: v }];
    }
    const c = this.collection(coll);
    if (c) return this.filterKeys(c, t, coll);
    if (coll === 'RESPONSE_BODY' && this.response) return [{ name: coll, value: this.response.body ?? '' }];
    const sv = this.scalar(coll);
    return sv === undefined ? [] : [{ name: coll, value: sv }];
  }

  private filterKeys(c: KV[], t: Target, coll: string): Var[] {
    const out: Var[] = [];
    for (const [k, v] of c) {
      if (t.keyRe) {
        if (!t.keyRe.test(k)) continue;
      } else if (t.key !== undefined && k.toLowerCase() !== t.key) continue;
      out.push({ name: `${coll}:${k}`, value: v });
    }
    return out;
  }

  private scalar(name: string): string | undefined {
    const v = this.scalars.get(name);
    if (v !== undefined) return v;
    const r = this.response;
    switch (name) {
      case 'RESPONSE_STATUS':
        return r ? String(r.status) : undefined;
      case 'RESPONSE_PROTOCOL':
        return r ? (r.protocol ?? 'HTTP/1.1') : undefined;
      case 'STATUS_LINE':
        return r ? `${r.protocol ?? 'HTTP/1.1'} ${r.status}` : undefined;
      case 'RESPONSE_CONTENT_TYPE':
        return r?.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1];
      case 'RESPONSE_CONTENT_LENGTH':
        return r?.headers.find(([k]) => k.toLowerCase() === 'content-length')?.[1];
      case 'REQUEST_BODY':
        return undefined;
      case 'FULL_REQUEST':
        return `${this.scalars.get('REQUEST_LINE')}\n${this.req.headers.map(([k, v]) => `${k}: ${v}`).join('\n')}\n\n${this.req.body ?? ''}`;
      case 'DURATION':
        return '0';
      case 'TIME_EPOCH':
        return String(Math.floor(Date.now() / 1000));
      default:
        if (SCALARS_EMPTY.has(name)) return '';
        if (name.startsWith('MULTIPART_')) return '0';
        return undefined;
    }
  }

  private isExcluded(rule: Rule, v: Var, targetColl: string, excludes: Target[]): boolean {
    for (const e of excludes) {
      if (e.coll !== targetColl) continue;
      if (e.key === undefined && !e.keyRe) return true;
      const colon = v.name.indexOf(':');
      const k = colon < 0 ? '' : v.name.slice(colon + 1);
      if (e.keyRe ? e.keyRe.test(k) : k.toLowerCase() === e.key) return true;
    }
    void rule;
    return false;
  }

  /**
   * The values of a rule's targets. Rules that read only request/response data (not TX or
   * MATCHED_*) share one cached list per distinct target list, so that their transformed values
   * and pre-filter answers are shared too.
   */
  private values(rule: Rule): Var[] {
    const sig = this.signature(rule);
    if (sig !== null) {
      const c = this.sigVarCache.get(sig);
      if (c !== undefined && c.ver === this.dataVersion) return c.vars;
      const vars = this.valuesUncached(rule);
      this.sigVarCache.set(sig, { ver: this.dataVersion, vars });
      return vars;
    }
    return this.valuesUncached(rule);
  }

  private signature(rule: Rule): string | null {
    let sig = SIGS.get(rule);
    if (sig === undefined) {
      const dyn = rule.targets.some(
        (t) => t.coll === 'TX' || t.coll.startsWith('MATCHED_') || t.coll === 'RULE',
      );
      sig = dyn
        ? null
        : [...rule.targets, ...rule.excludes].map((t) => (t.exclude ? '!' : '') + t.raw).join('|');
      SIGS.set(rule, sig);
    }
    if (sig !== null && this.targetExcl.length && this.targetExcl.some((x) => x.pred(rule)))
      return `${sig}#${rule.id}`;
    return sig;
  }

  /** a target list's values after a transformation chain, with the pre-filter literals found */
  private transformedList(vars: Var[], rule: Rule): TList {
    let byT = this.tlistCache.get(vars);
    if (byT === undefined) {
      byT = new Map();
      this.tlistCache.set(vars, byT);
    }
    let e = byT.get(rule.tkey);
    if (e === undefined) {
      e = { tvs: vars.map((v) => this.transformOne(rule, v.value)), found: null, union: null };
      byT.set(rule.tkey, e);
    }
    return e;
  }

  private literalsOf(e: TList): Uint32Array {
    if (e.union === null) {
      const lits = this.rs.literals!;
      const u = new Uint32Array((lits.size >>> 5) + 1);
      e.found = e.tvs.map((tv) => {
        let f = this.litCache.get(tv);
        if (f === undefined) {
          f = lits.found(tv);
          if (tv.length < 65536) this.litCache.set(tv, f);
        }
        for (let i = 0; i < f.length; i++) u[f[i]! >>> 5]! |= 1 << (f[i]! & 31);
        return f;
      });
      e.union = u;
    }
    return e.union;
  }

  private valuesUncached(rule: Rule): Var[] {
    let excludes = rule.excludes;
    if (this.targetExcl.length) {
      const extra = this.targetExcl.filter((x) => x.pred(rule)).map((x) => x.t);
      if (extra.length) excludes = excludes.concat(extra);
    }
    const out: Var[] = [];
    for (const t of rule.targets) {
      let vs = this.resolve(t, rule);
      if (excludes.length) vs = vs.filter((v) => !this.isExcluded(rule, v, t.coll, excludes));
      if (t.count) out.push({ name: t.raw.replace(/^&/, ''), value: String(vs.length) });
      else for (const v of vs) out.push(v);
    }
    return out;
  }

  // ---------------------------------------------------------------------------- macros

  expand(s: string): string {
    if (!s.includes('%{')) return s;
    return s.replace(/%\{([^}]+)\}/g, (_m, ref: string) => this.macro(ref));
  }

  private macro(ref: string): string {
    const dot = ref.indexOf('.');
    const coll = (dot < 0 ? ref : ref.slice(0, dot)).toUpperCase();
    const key = dot < 0 ? undefined : ref.slice(dot + 1);
    if (coll === 'TX' && key !== undefined) return this.tx.get(key.toLowerCase()) ?? '';
    if (coll === 'MATCHED_VAR') return this.matchedVar?.value ?? '';
    if (coll === 'MATCHED_VAR_NAME') return this.matchedVar?.name ?? '';
    if (coll === 'RULE' && key !== undefined)
      return (this.headRule && ruleField(this.headRule, key.toLowerCase())) ?? '';
    const t: Target = { coll, key: key?.toLowerCase(), count: false, exclude: false, raw: ref };
    const vs = this.resolve(t, this.currentRule);
    return vs[0]?.value ?? '';
  }

  // ---------------------------------------------------------------------------- evaluation

  private transformOne(rule: Rule, value: string): string {
    const ts = rule.transforms;
    if (ts.length === 0) return value;
    let cache = this.tcache.get(rule.tkey);
    if (!cache) {
      cache = new Map();
      this.tcache.set(rule.tkey, cache);
    }
    const hit = cache.get(value);
    if (hit !== undefined) return hit;
    let v = value;
    for (const t of ts) v = t(v);
    if (value.length < 65536) cache.set(value, v);
    return v;
  }

  /** whether a value can match an operator with a literal pre-filter (one automaton pass per value) */
  private prefilterPass(ids: number[], tv: string): boolean {
    let f = this.litCache.get(tv);
    if (f === undefined) {
      f = this.rs.literals!.found(tv);
      if (tv.length < 65536) this.litCache.set(tv, f);
    }
    if (f.length === 0) return false;
    for (let i = 0; i < ids.length; i++) if (f.includes(ids[i]!)) return true;
    return false;
  }

  private transformed(rule: Rule, value: string): string[] {
    const ts = rule.transforms;
    if (ts.length === 0) return [value];
    if (rule.multiMatch) {
      const out = [value];
      let v = value;
      for (const t of ts) {
        const n = t(v);
        if (n !== v) out.push(n);
        v = n;
      }
      return out;
    }
    let cache = this.tcache.get(rule.tkey);
    if (!cache) {
      cache = new Map();
      this.tcache.set(rule.tkey, cache);
    }
    const hit = cache.get(value);
    if (hit !== undefined) return [hit];
    let v = value;
    for (const t of ts) v = t(v);
    if (value.length < 65536) cache.set(value, v);
    return [v];
  }

  private setCaptures(caps: string[] | undefined): void {
    if (!caps) return;
    for (let i = 0; i < 10; i++) {
      const k = String(i);
      if (i < caps.length) this.setTx(k, caps[i]!);
      else if (this.tx.has(k)) {
        this.tx.delete(k);
        this.txVersion++;
      }
    }
  }

  private setTx(name: string, value: string): void {
    this.txVersion++;
    const k = name.toLowerCase();
    this.tx.set(k, value);
    if (k !== name) this.txNames.set(k, name);
  }

  /** evaluates one rule (not its chain); returns whether it matched */
  private evalOne(rule: Rule): boolean {
    this.currentRule = rule;
    const op = rule.op;
    let param = op.param;
    if (op.dynamic) {
      const c = this.paramCache.get(rule);
      if (c !== undefined && c.tv === this.txVersion && c.dv === this.dataVersion) param = c.p;
      else {
        param = this.expand(op.param);
        this.paramCache.set(rule, { tv: this.txVersion, dv: this.dataVersion, p: param });
      }
    }
    const isAction = rule.targets.length === 0;
    if (isAction) {
      for (const sv of rule.setvars) this.doSetvar(sv);
      return true;
    }
    const vars = this.values(rule);
    if (vars.length === 0) return false;
    const matched: Var[] = [];
    const pfIds = rule.negated ? undefined : op.pfIds;
    let tl: TList | null = null;
    if (!rule.multiMatch) {
      tl = this.transformedList(vars, rule);
      if (pfIds !== undefined) {
        // no value holds any of the literals every match needs: the regex cannot match
        const u = this.literalsOf(tl);
        let any = false;
        for (let i = 0; i < pfIds.length; i++)
          if (u[pfIds[i]! >>> 5]! & (1 << (pfIds[i]! & 31))) {
            any = true;
            break;
          }
        if (!any) return false;
      }
    }
    for (let vi = 0; vi < vars.length; vi++) {
      const v = vars[vi]!;
      const tvs = tl ? null : this.transformed(rule, v.value);
      const nt = tvs ? tvs.length : 1;
      for (let ti = 0; ti < nt; ti++) {
        const tv = tvs ? tvs[ti]! : tl!.tvs[vi]!;
        if (pfIds !== undefined) {
          if (tl) {
            const f = tl.found![vi]!;
            let ok = false;
            for (let i = 0; i < pfIds.length; i++)
              if (f.includes(pfIds[i]!)) {
                ok = true;
                break;
              }
            if (!ok) continue;
          } else if (!this.prefilterPass(pfIds, tv)) continue;
        }
        const r = op.match(tv, param, rule.capture);
        const hit = rule.negated ? r === null : r !== null;
        if (!hit) continue;
        if (rule.capture && r && !rule.negated) this.setCaptures(r.captures);
        const mv = { name: v.name, value: tv };
        matched.push(mv);
        this.matchedVar = mv;
        this.matchedVars.push(mv);
        // setvars run per matched value (with its captures), as in ModSecurity v3: the next
        // chain link may read them
        for (const sv of rule.setvars) this.doSetvar(sv);
        break;
      }
    }
    return matched.length > 0;
  }

  private isRemoved(rule: Rule): boolean {
    if (this.removedIds.has(rule.id)) return true;
    for (const p of this.removedRanges) if (p(rule.id)) return true;
    if (this.removedTags.size) for (const t of rule.tags) if (this.removedTags.has(t)) return true;
    return false;
  }

  private runPhase(phase: number): void {
    if (this.engine === 'Off' || this.allowAll) return;
    const items: PhaseItem[] = this.rs.phases[phase]!;
    let skipTo: string | null = null;
    let skip = 0;
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (it.marker !== undefined) {
        if (skipTo !== null && it.marker === skipTo) skipTo = null;
        continue;
      }
      if (skipTo !== null) continue;
      if (skip > 0) {
        skip--;
        continue;
      }
      const rule = it.rule;
      if (this.isRemoved(rule)) continue;
      if (this.matchedVars.length) this.matchedVars = [];
      this.headRule = rule;
      // chain: every link must match
      let link: Rule | undefined = rule;
      const links: Rule[] = [];
      let ok = true;
      while (link) {
        if (!this.evalOne(link)) {
          ok = false;
          break;
        }
        links.push(link);
        link = link.chain;
      }
      if (!ok) continue;
      this.currentRule = rule;
      const dflt = rule.defaults as DefaultActions;
      for (const l of links) for (const c of l.ctls) this.doCtl(c.name, c.value);
      const log = rule.log ?? dflt.log;
      if (rule.id) {
        this.matches.push({
          id: rule.id,
          phase,
          msg: rule.msg !== undefined ? this.expand(rule.msg) : undefined,
          data: rule.logdata !== undefined ? this.expand(rule.logdata).slice(0, 512) : undefined,
          severity: rule.severity,
          tags: rule.tags,
          logged: log,
        });
      }
      let disr = rule.disruptive ?? links.find((l) => l.disruptive)?.disruptive;
      if (disr === 'block') disr = dflt.disruptive === 'block' ? 'deny' : dflt.disruptive;
      if (disr === 'allow') {
        if (rule.allowScope === 'phase') return;
        if (rule.allowScope === 'request') {
          this.allowRequest = true;
          return;
        }
        this.allowAll = true;
        return;
      }
      if (disr === 'deny' || disr === 'drop' || disr === 'redirect') {
        if (this.engine === 'On') {
          this.intervention = {
            status: rule.status ?? dflt.status ?? (disr === 'redirect' ? 302 : 403),
            ruleId: rule.id,
            action: disr,
          };
          return;
        }
      }
      if (rule.skipAfter) skipTo = rule.skipAfter;
      else if (rule.skip > 0) skip = rule.skip;
    }
  }

  private doSetvar(sv: SetVar): void {
    if (sv.coll !== 'TX') return;
    const name = this.expand(sv.name);
    const k = name.toLowerCase();
    if (sv.op === 'del') {
      {
        this.tx.delete(k);
        this.txVersion++;
      }
      return;
    }
    const val = this.expand(sv.value);
    if (sv.op === '=') this.setTx(name, val);
    else {
      const cur = parseInt(this.tx.get(k) ?? '0', 10) || 0;
      const d = parseInt(val, 10) || 0;
      this.setTx(name, String(sv.op === '+' ? cur + d : cur - d));
    }
  }

  private doCtl(name: string, value: string): void {
    const v = this.expand(value);
    switch (name) {
      case 'ruleengine': {
        const l = v.toLowerCase();
        this.engine =
          l === 'on' ? 'On' : l === 'off' ? 'Off' : l === 'detectiononly' ? 'DetectionOnly' : this.engine;
        break;
      }
      case 'ruleremovebyid':
        for (const part of v.split(/[\s,]+/).filter(Boolean)) {
          const m = /^(\d+)-(\d+)$/.exec(part);
          if (m) {
            const a = Number(m[1]);
            const b = Number(m[2]);
            this.removedRanges.push((id) => id >= a && id <= b);
          } else this.removedIds.add(Number(part));
        }
        break;
      case 'ruleremovebytag':
        this.removedTags.add(v);
        break;
      case 'ruleremovetargetbyid':
      case 'ruleremovetargetbytag':
      case 'ruleremovetargetbymsg': {
        const semi = v.indexOf(';');
        if (semi < 0) break;
        const sel = v.slice(0, semi);
        let targets: Target[];
        try {
          targets = parseTargets(v.slice(semi + 1), '<ctl>', 0);
        } catch {
          break;
        }
        let pred: (r: Rule) => boolean;
        if (name === 'ruleremovetargetbyid') {
          const m = /^(\d+)(?:-(\d+))?$/.exec(sel.trim());
          if (!m) break;
          const a = Number(m[1]);
          const b = m[2] ? Number(m[2]) : a;
          pred = (r) => r.id >= a && r.id <= b;
        } else if (name === 'ruleremovetargetbytag') pred = (r) => r.tags.includes(sel);
        else pred = (r) => r.msg === sel;
        for (const t of targets) this.targetExcl.push({ pred, t });
        this.dataVersion++;
        break;
      }
      case 'requestbodyprocessor':
        if (this.phaseDone < 2) {
          this.reqBodyProcessor = v.toUpperCase();
          this.dataVersion++;
          this.scalars.set('REQBODY_PROCESSOR', this.reqBodyProcessor);
        }
        break;
      case 'requestbodyaccess':
        this.bodyAccess = v.toLowerCase() === 'on';
        break;
      case 'forcerequestbodyvariable':
        this.forceBodyVar = v.toLowerCase() === 'on';
        break;
      default:
        break;
    }
  }

  // ---------------------------------------------------------------------------- phases

  /** phase 1 (request headers), then body parsing and phase 2 (request body) */
  processRequest(): Intervention | null {
    this.processRequestHeaders();
    if (this.intervention) return this.intervention;
    return this.processRequestBody();
  }

  processRequestHeaders(): Intervention | null {
    this.runPhase(1);
    this.phaseDone = 1;
    return this.intervention;
  }

  processRequestBody(): Intervention | null {
    this.processBody();
    this.phaseDone = 2;
    if (!this.allowRequest) this.runPhase(2);
    return this.intervention;
  }

  processResponseHeaders(resp: WafResponse): Intervention | null {
    this.response = { ...resp, body: undefined };
    this.dataVersion++;
    if (!this.intervention) this.runPhase(3);
    this.phaseDone = 3;
    return this.intervention;
  }

  /** whether the response body would be inspected (body access on and a listed MIME type) */
  wantsResponseBody(): boolean {
    if (!this.rs.responseBodyAccess || !this.response) return false;
    const ct = (this.response.headers.find(([k]) => k.toLowerCase() === 'content-type')?.[1] ?? '')
      .split(';')[0]!
      .trim()
      .toLowerCase();
    return this.rs.responseBodyMimeTypes.includes(ct);
  }

  processResponseBody(body: string): Intervention | null {
    if (!this.response) return this.intervention;
    this.dataVersion++;
    if (this.wantsResponseBody()) {
      this.response.body =
        body.length > this.rs.responseBodyLimit ? body.slice(0, this.rs.responseBodyLimit) : body;
    }
    if (!this.intervention) this.runPhase(4);
    this.phaseDone = 4;
    return this.intervention;
  }

  processLogging(): void {
    this.runPhase(5);
    this.phaseDone = 5;
  }

  /** ids of logged matches */
  loggedIds(): number[] {
    return this.matches.filter((m) => m.logged).map((m) => m.id);
  }

  /** inbound anomaly score as the CRS computes it */
  inboundScore(): number {
    return Number(this.tx.get('blocking_inbound_anomaly_score') ?? this.tx.get('anomaly_score') ?? 0) || 0;
  }
}

function ruleField(rule: Rule, key: string): string | undefined {
  switch (key) {
    case 'id':
      return String(rule.id);
    case 'msg':
      return rule.msg;
    case 'severity':
      return rule.severity;
    case 'logdata':
      return rule.logdata;
    case 'ver':
      return rule.ver;
    case 'phase':
      return String(rule.phase);
    default:
      return undefined;
  }
}
