/**
 * Compiles SecLang directives into a rule set: rules per phase in file order (chains linked,
 * markers kept in every phase), SecDefaultAction per phase, SecRuleUpdateTarget* and SecRuleRemove*
 * applied in configuration order, engine settings. Errors name the file and line.
 */
import { dirname } from 'node:path';
import type { Directive } from './seclang.js';
import { SecLangError } from './seclang.js';
import { compileOperator, type Operator } from './operators.js';
import { TRANSFORMS, type Transform } from './transforms.js';
import { LiteralSet } from './aho.js';

export interface Target {
  coll: string;
  key?: string; // lowercased
  keyRe?: RegExp;
  count: boolean;
  exclude: boolean;
  raw: string;
}

export interface SetVar {
  coll: string;
  name: string;
  op: '=' | '+' | '-' | 'del';
  value: string;
}

export type Disruptive = 'pass' | 'block' | 'deny' | 'drop' | 'allow' | 'redirect';

export interface Rule {
  id: number;
  phase: number;
  file: string;
  line: number;
  targets: Target[];
  excludes: Target[];
  op: Operator;
  negated: boolean;
  transforms: Transform[];
  tkey: string;
  multiMatch: boolean;
  capture: boolean;
  chain?: Rule;
  /** this rule is a chain link (not a head) */
  child: boolean;
  msg?: string;
  logdata?: string;
  severity?: string;
  tags: string[];
  ver?: string;
  disruptive?: Disruptive;
  allowScope?: 'phase' | 'request' | 'all';
  status?: number;
  log?: boolean;
  auditlog?: boolean;
  setvars: SetVar[];
  ctls: { name: string; value: string }[];
  skip: number;
  skipAfter?: string;
  /** default action set of the phase, copied at compile time */
  defaults?: DefaultActions;
}

export interface DefaultActions {
  disruptive: Disruptive;
  log: boolean;
  auditlog: boolean;
  transforms: string[];
  status?: number;
}

export type PhaseItem = { rule: Rule; marker?: undefined } | { marker: string; rule?: undefined };

export interface RuleSet {
  phases: PhaseItem[][]; // index 1..5
  byId: Map<number, Rule>;
  engine: 'On' | 'Off' | 'DetectionOnly';
  requestBodyAccess: boolean;
  responseBodyAccess: boolean;
  requestBodyLimit: number;
  requestBodyNoFilesLimit: number;
  requestBodyLimitAction: 'Reject' | 'ProcessPartial';
  responseBodyMimeTypes: string[];
  responseBodyLimit: number;
  argumentsLimit: number;
  components: string[];
  warnings: string[];
  /** every @rx pre-filter literal of the rule set, matched in one pass per value */
  literals: LiteralSet | null;
}

const PHASE_NAMES: Record<string, number> = { request: 2, response: 4, logging: 5 };

/** Splits an action list on commas outside single quotes, into [name, value] pairs. */
export function splitActions(text: string): [string, string][] {
  const out: [string, string][] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (
      i < n &&
      (text[i] === ' ' || text[i] === '\t' || text[i] === ',' || text[i] === '\n' || text[i] === '\r')
    )
      i++;
    if (i >= n) break;
    let name = '';
    while (i < n && text[i] !== ':' && text[i] !== ',') name += text[i++];
    let value = '';
    if (text[i] === ':') {
      i++;
      while (i < n && text[i] === ' ') i++;
      if (text[i] === "'") {
        i++;
        while (i < n) {
          if (text[i] === '\\' && text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          if (text[i] === "'") {
            i++;
            break;
          }
          value += text[i++];
        }
        while (i < n && text[i] !== ',') i++;
      } else {
        while (i < n && text[i] !== ',') value += text[i++];
        value = value.trim();
      }
    }
    out.push([name.trim().toLowerCase(), value]);
  }
  return out;
}

/** Parses a variable list: ARGS|!ARGS:foo|&TX:x|REQUEST_HEADERS:/re/|XML:/* */
export function parseTargets(text: string, file: string, line: number): Target[] {
  const out: Target[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    let exclude = false;
    let count = false;
    while (i < n && (text[i] === ' ' || text[i] === '|')) i++;
    if (i >= n) break;
    const start = i;
    if (text[i] === '!') {
      exclude = true;
      i++;
    }
    if (text[i] === '&') {
      count = true;
      i++;
    }
    let coll = '';
    while (i < n && text[i] !== ':' && text[i] !== '|') coll += text[i++];
    let key: string | undefined;
    let keyRe: RegExp | undefined;
    if (text[i] === ':') {
      i++;
      const rest = text.slice(i);
      if (rest[0] === '/' && coll.toUpperCase() !== 'XML') {
        // regex key up to the closing unescaped slash
        let j = 1;
        while (j < rest.length && rest[j] !== '/') j += rest[j] === '\\' ? 2 : 1;
        const src = rest.slice(1, j);
        try {
          keyRe = new RegExp(src, 'i');
        } catch (e) {
          throw new SecLangError(`bad variable regex ${src}: ${(e as Error).message}`, file, line);
        }
        i += j + 1;
      } else if (rest[0] === "'") {
        const end = rest.indexOf("'", 1);
        key = rest.slice(1, end < 0 ? undefined : end);
        i += end < 0 ? rest.length : end + 1;
      } else {
        let k = '';
        while (i < n && text[i] !== '|') k += text[i++];
        key = k;
      }
    }
    const raw = text.slice(start, i);
    coll = coll.trim().toUpperCase();
    if (!coll) throw new SecLangError(`empty variable in "${text}"`, file, line);
    out.push({
      coll,
      key: key === undefined || coll === 'XML' ? key : key.toLowerCase(),
      keyRe,
      count,
      exclude,
      raw,
    });
  }
  return out;
}

function parseSetvar(v: string): SetVar {
  let s = v.trim();
  let del = false;
  if (s.startsWith('!')) {
    del = true;
    s = s.slice(1);
  }
  const eq = s.indexOf('=');
  const lhs = eq < 0 ? s : s.slice(0, eq);
  const dot = lhs.indexOf('.');
  const coll = (dot < 0 ? 'tx' : lhs.slice(0, dot)).toUpperCase();
  const name = dot < 0 ? lhs : lhs.slice(dot + 1);
  if (del) return { coll, name, op: 'del', value: '' };
  if (eq < 0) return { coll, name, op: '=', value: '1' };
  let value = s.slice(eq + 1);
  let op: SetVar['op'] = '=';
  if (value.startsWith('+')) {
    op = '+';
    value = value.slice(1);
  } else if (value.startsWith('-')) {
    op = '-';
    value = value.slice(1);
  }
  return { coll, name, op, value };
}

export interface CompileOptions {
  /** SecRuleEngine override (the --mode flag) */
  engine?: 'On' | 'Off' | 'DetectionOnly';
  /** literal pre-filters for @rx (default on; off only to check that they never change a result) */
  prefilter?: boolean;
}

function parseIdList(text: string): ((id: number) => boolean)[] {
  return text
    .split(/[\s,]+/)
    .filter(Boolean)
    .map((t) => {
      const m = /^(\d+)-(\d+)$/.exec(t);
      if (m) {
        const a = Number(m[1]);
        const b = Number(m[2]);
        return (id: number) => id >= a && id <= b;
      }
      const v = Number(t);
      return (id: number) => id === v;
    });
}

export function compileRules(dirs: Directive[], opts: CompileOptions = {}): RuleSet {
  const rs: RuleSet = {
    phases: [[], [], [], [], [], []],
    byId: new Map(),
    engine: 'On',
    requestBodyAccess: false,
    responseBodyAccess: false,
    requestBodyLimit: 13107200,
    requestBodyNoFilesLimit: 131072,
    requestBodyLimitAction: 'Reject',
    responseBodyMimeTypes: ['text/plain', 'text/html'],
    responseBodyLimit: 524288,
    argumentsLimit: 1000,
    components: [],
    warnings: [],
    literals: null,
  };
  const defaults: Record<number, DefaultActions> = {};
  const def = (phase: number): DefaultActions =>
    defaults[phase] ?? { disruptive: 'pass', log: true, auditlog: true, transforms: [] };
  let pendingChain: Rule | null = null; // last link waiting for a chained rule

  const buildRule = (
    d: Directive,
    targetsText: string | null,
    opText: string | null,
    actionsText: string,
    isChild: boolean,
  ): Rule => {
    const baseDir = dirname(d.file);
    let op: Operator;
    let negated: boolean;
    try {
      const c = compileOperator(opText ?? '@unconditionalMatch', baseDir);
      op = c.op;
      negated = c.negated;
    } catch (e) {
      throw new SecLangError((e as Error).message, d.file, d.line);
    }
    const all = targetsText === null ? [] : parseTargets(targetsText, d.file, d.line);
    const rule: Rule = {
      id: 0,
      phase: 2,
      file: d.file,
      line: d.line,
      targets: all.filter((t) => !t.exclude),
      excludes: all.filter((t) => t.exclude),
      op,
      negated,
      transforms: [],
      tkey: '',
      multiMatch: false,
      capture: false,
      child: isChild,
      tags: [],
      setvars: [],
      ctls: [],
      skip: 0,
    };
    let phaseSet = false;
    const tnames: string[] = [];
    let tnone = false;
    for (const [name, value] of splitActions(actionsText)) {
      switch (name) {
        case 'id':
          rule.id = Number(value);
          if (!Number.isInteger(rule.id) || rule.id <= 0)
            throw new SecLangError(`bad rule id ${value}`, d.file, d.line);
          break;
        case 'phase': {
          const p = PHASE_NAMES[value.toLowerCase()] ?? Number(value);
          if (!(p >= 1 && p <= 5)) throw new SecLangError(`bad phase ${value}`, d.file, d.line);
          rule.phase = p;
          phaseSet = true;
          break;
        }
        case 't':
          if (value.toLowerCase() === 'none') {
            tnone = true;
            tnames.length = 0;
          } else {
            const fn = TRANSFORMS[value.toLowerCase()];
            if (!fn) throw new SecLangError(`unknown transformation t:${value}`, d.file, d.line);
            tnames.push(value.toLowerCase());
          }
          break;
        case 'msg':
          rule.msg = value;
          break;
        case 'logdata':
          rule.logdata = value;
          break;
        case 'severity':
          rule.severity = value;
          break;
        case 'tag':
          rule.tags.push(value);
          break;
        case 'ver':
          rule.ver = value;
          break;
        case 'pass':
        case 'block':
        case 'deny':
        case 'drop':
        case 'redirect':
          rule.disruptive = name;
          break;
        case 'allow':
          rule.disruptive = 'allow';
          rule.allowScope = value === 'phase' ? 'phase' : value === 'request' ? 'request' : 'all';
          break;
        case 'status':
          rule.status = Number(value);
          break;
        case 'log':
          rule.log = true;
          break;
        case 'nolog':
          rule.log = false;
          break;
        case 'auditlog':
          rule.auditlog = true;
          break;
        case 'noauditlog':
          rule.auditlog = false;
          break;
        case 'setvar':
          rule.setvars.push(parseSetvar(value));
          break;
        case 'ctl': {
          const eq = value.indexOf('=');
          rule.ctls.push({
            name: value.slice(0, eq).trim().toLowerCase(),
            value: value.slice(eq + 1).trim(),
          });
          break;
        }
        case 'chain':
          rule.chain = undefined;
          (rule as Rule & { wantsChain?: boolean }).wantsChain = true;
          break;
        case 'skip':
          rule.skip = Number(value);
          break;
        case 'skipafter':
          rule.skipAfter = value;
          break;
        case 'capture':
          rule.capture = true;
          break;
        case 'multimatch':
          rule.multiMatch = true;
          break;
        case 'rev':
        case 'maturity':
        case 'accuracy':
        case 'auditlogparts':
        case 'sanitisematched':
        case 'sanitizematched':
        case 'sanitisearg':
        case 'sanitiseMatchedBytes':
        case 'expirevar':
        case 'initcol':
        case 'setuid':
        case 'setsid':
        case 'setenv':
        case 'xmlns':
        case 'exec':
        case 'deprecatevar':
        case 'append':
        case 'prepend':
        case 'proxy':
        case 'pause':
        case 'noauditlog ':
          break;
        default:
          if (name !== '') rs.warnings.push(`${d.file}:${d.line}: action ${name} ignored`);
      }
    }
    if (!isChild && !phaseSet) rule.phase = 2;
    const dflt = def(rule.phase);
    const tlist = tnone || isChild ? tnames : [...dflt.transforms, ...tnames];
    rule.transforms = tlist.map((t) => TRANSFORMS[t]!);
    rule.tkey = tlist.join(',');
    if (!isChild) rule.defaults = dflt;
    return rule;
  };

  const addRule = (rule: Rule, d: Directive) => {
    if (pendingChain) {
      rule.child = true;
      pendingChain.chain = rule;
    } else {
      if (rule.id === 0) throw new SecLangError('rule has no id', d.file, d.line);
      if (rs.byId.has(rule.id)) throw new SecLangError(`duplicate rule id ${rule.id}`, d.file, d.line);
      rs.byId.set(rule.id, rule);
      rs.phases[rule.phase]!.push({ rule });
    }
    pendingChain = (rule as Rule & { wantsChain?: boolean }).wantsChain ? rule : null;
  };

  const removeWhere = (pred: (r: Rule) => boolean) => {
    for (let p = 1; p <= 5; p++) rs.phases[p] = rs.phases[p]!.filter((it) => !it.rule || !pred(it.rule));
    for (const [id, r] of rs.byId) if (pred(r)) rs.byId.delete(id);
  };

  const onOff = (v: string | undefined) => (v ?? '').toLowerCase() === 'on';

  for (const d of dirs) {
    const name = d.name.toLowerCase();
    const a = d.args;
    switch (name) {
      case 'secrule': {
        if (a.length < 2) throw new SecLangError('SecRule needs variables and an operator', d.file, d.line);
        const r = buildRule(d, a[0]!, a[1]!, a[2] ?? '', pendingChain !== null);
        addRule(r, d);
        break;
      }
      case 'secaction': {
        const r = buildRule(d, null, null, a[0] ?? '', pendingChain !== null);
        addRule(r, d);
        break;
      }
      case 'secmarker':
        if (pendingChain) throw new SecLangError('SecMarker inside a chain', d.file, d.line);
        for (let p = 1; p <= 5; p++) rs.phases[p]!.push({ marker: a[0] ?? '' });
        break;
      case 'secdefaultaction': {
        const acts = splitActions(a[0] ?? '');
        const ph = acts.find(([n]) => n === 'phase');
        if (!ph) throw new SecLangError('SecDefaultAction needs a phase', d.file, d.line);
        const p = PHASE_NAMES[ph[1].toLowerCase()] ?? Number(ph[1]);
        const da: DefaultActions = { disruptive: 'pass', log: true, auditlog: true, transforms: [] };
        for (const [n, v] of acts) {
          if (
            n === 'pass' ||
            n === 'deny' ||
            n === 'drop' ||
            n === 'block' ||
            n === 'redirect' ||
            n === 'allow'
          )
            da.disruptive = n;
          else if (n === 'log') da.log = true;
          else if (n === 'nolog') da.log = false;
          else if (n === 'auditlog') da.auditlog = true;
          else if (n === 'noauditlog') da.auditlog = false;
          else if (n === 'status') da.status = Number(v);
          else if (n === 't') {
            if (v.toLowerCase() === 'none') da.transforms = [];
            else da.transforms.push(v.toLowerCase());
          }
        }
        defaults[p] = da;
        break;
      }
      case 'secruleengine': {
        const v = (a[0] ?? '').toLowerCase();
        rs.engine =
          v === 'on' ? 'On' : v === 'off' ? 'Off' : v === 'detectiononly' ? 'DetectionOnly' : rs.engine;
        break;
      }
      case 'secrequestbodyaccess':
        rs.requestBodyAccess = onOff(a[0]);
        break;
      case 'secresponsebodyaccess':
        rs.responseBodyAccess = onOff(a[0]);
        break;
      case 'secrequestbodylimit':
        rs.requestBodyLimit = Number(a[0]);
        break;
      case 'secrequestbodynofileslimit':
        rs.requestBodyNoFilesLimit = Number(a[0]);
        break;
      case 'secrequestbodylimitaction':
        rs.requestBodyLimitAction =
          (a[0] ?? '').toLowerCase() === 'processpartial' ? 'ProcessPartial' : 'Reject';
        break;
      case 'secresponsebodymimetype':
        rs.responseBodyMimeTypes = a.join(' ').toLowerCase().split(/\s+/).filter(Boolean);
        break;
      case 'secresponsebodylimit':
        rs.responseBodyLimit = Number(a[0]);
        break;
      case 'secargumentslimit':
        rs.argumentsLimit = Number(a[0]);
        break;
      case 'seccomponentsignature':
        rs.components.push(a[0] ?? '');
        break;
      case 'secruleremovebyid': {
        const preds = parseIdList(a.join(' '));
        removeWhere((r) => preds.some((p) => p(r.id)));
        break;
      }
      case 'secruleremovebytag': {
        const tag = a[0] ?? '';
        removeWhere((r) => r.tags.includes(tag));
        break;
      }
      case 'secruleremovebymsg': {
        const msg = a[0] ?? '';
        removeWhere((r) => r.msg === msg);
        break;
      }
      case 'secruleupdatetargetbyid':
      case 'secruleupdatetargetbytag':
      case 'secruleupdatetargetbymsg': {
        const sel = a[0] ?? '';
        const ts = parseTargets(a[1] ?? '', d.file, d.line);
        const preds =
          name === 'secruleupdatetargetbyid'
            ? parseIdList(sel)
            : name === 'secruleupdatetargetbytag'
              ? [(id: number) => rs.byId.get(id)?.tags.includes(sel) ?? false]
              : [(id: number) => rs.byId.get(id)?.msg === sel];
        for (const [id, r] of rs.byId) {
          if (!preds.some((p) => p(id))) continue;
          if (a[2]) {
            const repl = parseTargets(a[2], d.file, d.line);
            r.targets = r.targets.filter((t) => !repl.some((x) => x.raw === t.raw));
          }
          for (const t of ts) (t.exclude ? r.excludes : r.targets).push(t);
        }
        break;
      }
      case 'secruleupdateactionbyid': {
        // replaces the named actions of the rules (disruptive, status, messages, severity,
        // logging, transformations); other actions are reported and ignored
        const preds = parseIdList(a[0] ?? '');
        const acts = splitActions(a[1] ?? '');
        for (const [id, r] of rs.byId) {
          if (!preds.some((p) => p(id))) continue;
          let tlist: string[] | null = null;
          for (const [n, v] of acts) {
            if (
              n === 'pass' ||
              n === 'block' ||
              n === 'deny' ||
              n === 'drop' ||
              n === 'redirect' ||
              n === 'allow'
            )
              r.disruptive = n;
            else if (n === 'status') r.status = Number(v);
            else if (n === 'msg') r.msg = v;
            else if (n === 'logdata') r.logdata = v;
            else if (n === 'severity') r.severity = v;
            else if (n === 'log') r.log = true;
            else if (n === 'nolog') r.log = false;
            else if (n === 'tag') r.tags.push(v);
            else if (n === 't') {
              const name = v.toLowerCase();
              if (name === 'none') tlist = [];
              else if (TRANSFORMS[name]) (tlist ??= r.tkey ? r.tkey.split(',') : []).push(name);
              else throw new SecLangError(`unknown transformation t:${v}`, d.file, d.line);
            } else if (n === 'setvar') r.setvars.push(parseSetvar(v));
            else rs.warnings.push(`${d.file}:${d.line}: SecRuleUpdateActionById: action ${n} ignored`);
          }
          if (tlist) {
            r.transforms = tlist.map((t) => TRANSFORMS[t]!);
            r.tkey = tlist.join(',');
          }
        }
        break;
      }
      case 'seccollectiontimeout':
      case 'secdebuglog':
      case 'secdebugloglevel':
      case 'secauditengine':
      case 'secauditlog':
      case 'secauditlogparts':
      case 'secauditlogtype':
      case 'secauditlogformat':
      case 'secauditlogrelevantstatus':
      case 'secauditlogstoragedir':
      case 'secauditlogdirmode':
      case 'secauditlogfilemode':
      case 'secargumentseparator':
      case 'seccookieformat':
      case 'secunicodemapfile':
      case 'secstatusengine':
      case 'sectmpdir':
      case 'secdatadir':
      case 'secuploaddir':
      case 'secuploadkeepfiles':
      case 'secuploadfilemode':
      case 'secuploadfilelimit':
      case 'secpcrematchlimit':
      case 'secpcrematchlimitrecursion':
      case 'secresponsebodylimitaction':
      case 'secrequestbodyinmemorylimit':
      case 'secrequestbodyjsondepthlimit':
      case 'sectmpsaveuploadedfiles':
      case 'secxmlexternalentity':
      case 'secgeolookupdb':
      case 'secserversignature':
      case 'secwebappid':
      case 'secconnengine':
      case 'seccomponentsig':
        break;
      default:
        throw new SecLangError(`unknown directive ${d.name}`, d.file, d.line);
    }
  }
  if (pendingChain) {
    const pc = pendingChain as Rule;
    throw new SecLangError('chain without a following rule', pc.file, pc.line);
  }
  if (opts.engine) rs.engine = opts.engine;
  // one literal automaton for the pre-filters of every @rx
  const ids = new Map<string, number>();
  for (const r of rs.byId.values())
    for (let l: Rule | undefined = r; l; l = l.chain) {
      const pf = l.op.prefilter;
      if (!pf || l.op.dynamic || opts.prefilter === false) continue;
      l.op.pfIds = pf.map((s) => {
        let id = ids.get(s);
        if (id === undefined) ids.set(s, (id = ids.size));
        return id;
      });
    }
  rs.literals = ids.size ? new LiteralSet([...ids.keys()]) : null;
  return rs;
}
