/**
 * Profiles as YAML files, one per workload: written with a stable order (keys in a fixed order,
 * every list sorted) so a re-learned profile diffs only where behaviour changed, and read back
 * with validation that names the file, line and column of each problem. Unknown keys are errors
 * (a misspelt `executable:` must not silently allow nothing), and so are wrong types, unknown
 * modes, relative paths and malformed endpoints.
 *
 *   apiVersion: bulwark.dev/v1alpha1
 *   kind: RuntimeProfile
 *   workload: { container: web, image: reg/app:1.4, imageDigest: sha256:… }   # or namespace + controller
 *   mode: discover | monitor | protect
 *   zeroDrift: false
 *   executables:
 *     - path: /usr/bin/dash
 *       aliases: [/bin/sh]          # paths it was exec'd as
 *       sha256: 4f…
 *       parents: [/usr/bin/runc]
 *       uids: [0]
 *   files: { written: [/tmp, /var/log/app/**] }
 *   network: { outbound: [tcp/10.0.0.5:5432], listening: [tcp/0.0.0.0:8080] }
 *   syscalls: [read, write, …]
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument, stringify, type Node, type YAMLMap } from 'yaml';
import {
  PROFILE_MODES,
  type ExecutableEntry,
  type Profile,
  type ProfileMode,
  type WorkloadRef,
} from './model.js';

export const PROFILE_API_VERSION = 'bulwark.dev/v1alpha1';
export const PROFILE_KIND = 'RuntimeProfile';

export interface ProfileIssue {
  file: string;
  line: number;
  column: number;
  message: string;
}

/** A profile file that does not validate: every problem found, each with file:line:column. */
export class ProfileError extends Error {
  constructor(readonly issues: ProfileIssue[]) {
    issues.sort((a, b) =>
      a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line || a.column - b.column,
    );
    super(issues.map((i) => `${i.file}:${i.line}:${i.column}: ${i.message}`).join('\n'));
    this.name = 'ProfileError';
  }
}

const ENDPOINT_RE = /^(?:(?:tcp|udp)\/(?:\*|[0-9.]+|\[[0-9a-fA-F:.]*\]):(?:\*|\d{1,5})|unix:.+)$/;

/** True for an endpoint as profiles write them ("tcp/10.0.0.1:443", "udp/[::1]:53", "unix:/x", "*" parts). */
export function isEndpoint(s: string): boolean {
  if (!ENDPOINT_RE.test(s)) return false;
  const port = /:(\d+)$/.exec(s);
  return !port || s.startsWith('unix:') || Number(port[1]) <= 65535;
}

const uniqSorted = (xs: Iterable<string>): string[] => [...new Set(xs)].sort();

/** The profile with every list deduplicated and sorted (what is written, and what compares equal). */
export function normalizeProfile(p: Profile): Profile {
  const exes = new Map<string, ExecutableEntry>();
  for (const e of p.executables) {
    const cur = exes.get(e.path);
    if (!cur) {
      exes.set(e.path, {
        ...e,
        parents: [...e.parents],
        uids: [...e.uids],
        ...(e.aliases ? { aliases: [...e.aliases] } : {}),
      });
      continue;
    }
    if (e.aliases) cur.aliases = [...(cur.aliases ?? []), ...e.aliases];
    cur.parents.push(...e.parents);
    cur.uids.push(...e.uids);
    if (!cur.sha256 && e.sha256) cur.sha256 = e.sha256;
  }
  // a parent known by a path it was exec'd as (an alias) is named by its entry's path
  const canon = new Map<string, string>();
  for (const e of exes.values()) for (const al of e.aliases ?? []) if (!exes.has(al)) canon.set(al, e.path);
  for (const e of exes.values()) e.parents = e.parents.map((x) => canon.get(x) ?? x);
  const out: Profile = {
    workload: { ...p.workload },
    mode: p.mode,
    zeroDrift: p.zeroDrift,
    executables: [...exes.values()]
      .map((e) => {
        const x: ExecutableEntry = {
          path: e.path,
          parents: uniqSorted(e.parents),
          uids: [...new Set(e.uids)].sort((a, b) => a - b),
        };
        const al = uniqSorted((e.aliases ?? []).filter((a) => a !== e.path));
        if (al.length) x.aliases = al;
        if (e.sha256) x.sha256 = e.sha256;
        return x;
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)),
    filesWritten: uniqSorted(p.filesWritten),
    outbound: uniqSorted(p.outbound),
    listening: uniqSorted(p.listening),
    syscalls: uniqSorted(p.syscalls),
  };
  if (p.learnedSince) out.learnedSince = p.learnedSince;
  if (p.updated) out.updated = p.updated;
  return out;
}

/**
 * Merges what `learned` holds into `base`: the union of every list (an executable's parents and
 * uids too; a sha256 the base lacks is taken). Mode, zero-drift and the workload stay the base's:
 * what a person set in the file wins over what the agent learned.
 */
export function mergeProfiles(base: Profile, learned: Profile): Profile {
  const m = normalizeProfile({
    ...base,
    executables: [...base.executables, ...learned.executables],
    filesWritten: [...base.filesWritten, ...learned.filesWritten],
    outbound: [...base.outbound, ...learned.outbound],
    listening: [...base.listening, ...learned.listening],
    syscalls: [...base.syscalls, ...learned.syscalls],
  });
  const since = [base.learnedSince, learned.learnedSince].filter((x): x is string => !!x).sort()[0];
  if (since) m.learnedSince = since;
  const upd = [base.updated, learned.updated].filter((x): x is string => !!x).sort();
  if (upd.length) m.updated = upd[upd.length - 1];
  return m;
}

/** The profile as YAML, keys in a fixed order and lists sorted. */
export function profileToYaml(p0: Profile): string {
  const p = normalizeProfile(p0);
  const w: Record<string, string> = { container: p.workload.container };
  if (p.workload.namespace) w.namespace = p.workload.namespace;
  if (p.workload.controller) w.controller = p.workload.controller;
  if (p.workload.image) w.image = p.workload.image;
  if (p.workload.imageDigest) w.imageDigest = p.workload.imageDigest;
  const doc: Record<string, unknown> = {
    apiVersion: PROFILE_API_VERSION,
    kind: PROFILE_KIND,
    workload: w,
    mode: p.mode,
    zeroDrift: p.zeroDrift,
    executables: p.executables.map((e) => {
      const x: Record<string, unknown> = { path: e.path };
      if (e.aliases?.length) x.aliases = e.aliases;
      if (e.sha256) x.sha256 = e.sha256;
      x.parents = e.parents;
      x.uids = e.uids;
      return x;
    }),
    files: { written: p.filesWritten },
    network: { outbound: p.outbound, listening: p.listening },
    syscalls: p.syscalls,
  };
  if (p.learnedSince || p.updated) {
    const l: Record<string, string> = {};
    if (p.learnedSince) l.since = p.learnedSince;
    if (p.updated) l.updated = p.updated;
    doc.learned = l;
  }
  return (
    '# Bulwark runtime profile (docs/runtime-profiles.md): learned in discover mode; review, edit and\n' +
    '# version it. mode: discover | monitor | protect.\n' +
    stringify(doc, { lineWidth: 0 })
  );
}

/** Parses and validates a profile file; throws ProfileError naming file, line and column of each problem. */
export function parseProfile(text: string, file = '<profile>'): Profile {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true });
  const issues: ProfileIssue[] = [];
  const at = (node: Node | null | undefined, message: string) => {
    const off = node?.range?.[0] ?? 0;
    const pos = lc.linePos(off);
    issues.push({ file, line: pos.line, column: pos.col, message });
  };
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? { line: 1, col: 1 };
    issues.push({ file, line: pos.line, column: pos.col, message: e.message.split('\n')[0]! });
  }
  if (issues.length) throw new ProfileError(issues);
  const root = doc.contents;
  if (!isMap(root)) {
    at(root, 'a profile is a mapping (apiVersion, kind, workload, mode, ...)');
    throw new ProfileError(issues);
  }

  const keysOf = (m: YAMLMap, allowed: string[], where: string): Map<string, Node | null> => {
    const out = new Map<string, Node | null>();
    for (const pair of m.items) {
      const k = pair.key as Node | null;
      const name = isScalar(k) ? String(k.value) : '';
      if (!allowed.includes(name)) {
        at(k, `unknown key ${JSON.stringify(name)} in ${where} (expected one of: ${allowed.join(', ')})`);
        continue;
      }
      out.set(name, pair.value as Node | null);
    }
    return out;
  };
  const str = (n: Node | null | undefined, what: string): string | undefined => {
    if (isScalar(n) && typeof n.value === 'string' && n.value !== '') return n.value;
    at(n, `${what}: expected a non-empty string`);
    return undefined;
  };
  const strList = (
    n: Node | null | undefined,
    what: string,
    check?: (s: string) => string | undefined,
  ): string[] => {
    if (n === undefined || (isScalar(n) && n.value === null)) return [];
    if (!isSeq(n)) {
      at(n, `${what}: expected a list`);
      return [];
    }
    const out: string[] = [];
    for (const it of n.items as (Node | null)[]) {
      const s =
        isScalar(it) && (typeof it.value === 'string' || typeof it.value === 'number')
          ? String(it.value)
          : undefined;
      if (s === undefined || s === '') {
        at(it, `${what}: expected a string`);
        continue;
      }
      const bad = check?.(s);
      if (bad) at(it, `${what}: ${bad}`);
      else out.push(s);
    }
    return out;
  };
  const absPath = (s: string) =>
    s.startsWith('/') ? undefined : `${JSON.stringify(s)} is not an absolute path`;

  const top = keysOf(
    root,
    [
      'apiVersion',
      'kind',
      'workload',
      'mode',
      'zeroDrift',
      'executables',
      'files',
      'network',
      'syscalls',
      'learned',
    ],
    'the profile',
  );
  const api = top.get('apiVersion');
  if (!api) at(root, `apiVersion missing (${PROFILE_API_VERSION})`);
  else if (!isScalar(api) || api.value !== PROFILE_API_VERSION)
    at(api, `apiVersion: expected ${PROFILE_API_VERSION}`);
  const kind = top.get('kind');
  if (!kind) at(root, `kind missing (${PROFILE_KIND})`);
  else if (!isScalar(kind) || kind.value !== PROFILE_KIND) at(kind, `kind: expected ${PROFILE_KIND}`);

  const workload: WorkloadRef = { container: '' };
  const wn = top.get('workload');
  if (!isMap(wn))
    at(wn ?? root, 'workload: expected a mapping with container and image or namespace/controller');
  else {
    const wk = keysOf(wn, ['container', 'namespace', 'controller', 'image', 'imageDigest'], 'workload');
    const c = wk.get('container');
    if (!c) at(wn, 'workload.container missing');
    else workload.container = str(c, 'workload.container') ?? '';
    for (const k of ['namespace', 'controller', 'image', 'imageDigest'] as const) {
      const n = wk.get(k);
      if (n === undefined) continue;
      const v = str(n, `workload.${k}`);
      if (v !== undefined) workload[k] = v;
    }
    if (workload.imageDigest && !/^sha256:[0-9a-f]{64}$/.test(workload.imageDigest))
      at(wk.get('imageDigest'), 'workload.imageDigest: expected sha256:<64 hex digits>');
    if (!!workload.namespace !== !!workload.controller)
      at(wn, 'workload: namespace and controller go together');
    if (workload.controller && !/^[a-z]+\/[^/]+$/.test(workload.controller))
      at(wk.get('controller'), 'workload.controller: expected kind/name (deployment/web)');
  }

  let mode: ProfileMode = 'discover';
  const mn = top.get('mode');
  if (mn !== undefined) {
    if (isScalar(mn) && PROFILE_MODES.includes(mn.value as ProfileMode)) mode = mn.value as ProfileMode;
    else at(mn, `mode: expected one of ${PROFILE_MODES.join(', ')}`);
  }
  let zeroDrift = false;
  const zn = top.get('zeroDrift');
  if (zn !== undefined) {
    if (isScalar(zn) && typeof zn.value === 'boolean') zeroDrift = zn.value;
    else at(zn, 'zeroDrift: expected true or false');
  }

  const executables: ExecutableEntry[] = [];
  const en = top.get('executables');
  if (en !== undefined && !(isScalar(en) && en.value === null)) {
    if (!isSeq(en)) at(en, 'executables: expected a list');
    else
      for (const it of en.items as (Node | null)[]) {
        if (!isMap(it)) {
          at(it, 'executables: each entry is a mapping with path, sha256, parents, uids');
          continue;
        }
        const ek = keysOf(it, ['path', 'aliases', 'sha256', 'parents', 'uids'], 'an executable');
        const pn = ek.get('path');
        const path = pn ? str(pn, 'executables[].path') : (at(it, 'executables[].path missing'), undefined);
        if (path && !path.startsWith('/'))
          at(pn, `executables[].path: ${JSON.stringify(path)} is not an absolute path`);
        const e: ExecutableEntry = {
          path: path ?? '',
          parents: strList(ek.get('parents'), 'executables[].parents', (s) =>
            s === '*' ? undefined : absPath(s),
          ),
          uids: [],
        };
        const an = ek.get('aliases');
        if (an !== undefined) {
          const al = strList(an, 'executables[].aliases', absPath);
          if (al.length) e.aliases = al;
        }
        const sn = ek.get('sha256');
        if (sn !== undefined) {
          const s = str(sn, 'executables[].sha256');
          if (s && !/^[0-9a-f]{64}$/.test(s))
            at(sn, 'executables[].sha256: expected 64 lowercase hex digits');
          else if (s) e.sha256 = s;
        }
        const un = ek.get('uids');
        if (un !== undefined && !(isScalar(un) && un.value === null)) {
          if (!isSeq(un)) at(un, 'executables[].uids: expected a list of numbers');
          else
            for (const u of un.items as (Node | null)[]) {
              if (isScalar(u) && typeof u.value === 'number' && Number.isInteger(u.value) && u.value >= 0)
                e.uids.push(u.value);
              else at(u, 'executables[].uids: expected a non-negative integer');
            }
        }
        if (path?.startsWith('/')) executables.push(e);
      }
  }

  let filesWritten: string[] = [];
  const fn = top.get('files');
  if (fn !== undefined && !(isScalar(fn) && fn.value === null)) {
    if (!isMap(fn)) at(fn, 'files: expected a mapping with written');
    else filesWritten = strList(keysOf(fn, ['written'], 'files').get('written'), 'files.written', absPath);
  }
  let outbound: string[] = [];
  let listening: string[] = [];
  const nn = top.get('network');
  if (nn !== undefined && !(isScalar(nn) && nn.value === null)) {
    if (!isMap(nn)) at(nn, 'network: expected a mapping with outbound and listening');
    else {
      const nk = keysOf(nn, ['outbound', 'listening'], 'network');
      const ep = (s: string) =>
        isEndpoint(s)
          ? undefined
          : `${JSON.stringify(s)} is not an endpoint (tcp/ADDR:PORT, udp/[ADDR6]:PORT, unix:PATH)`;
      outbound = strList(nk.get('outbound'), 'network.outbound', ep);
      listening = strList(nk.get('listening'), 'network.listening', ep);
    }
  }
  const syscalls = strList(top.get('syscalls'), 'syscalls', (s) =>
    /^[a-z0-9_]+$/.test(s) ? undefined : `${JSON.stringify(s)} is not a syscall name`,
  );

  const p: Profile = { workload, mode, zeroDrift, executables, filesWritten, outbound, listening, syscalls };
  const ln = top.get('learned');
  if (ln !== undefined) {
    if (!isMap(ln)) at(ln, 'learned: expected a mapping with since and updated');
    else {
      const lk = keysOf(ln, ['since', 'updated'], 'learned');
      const since = lk.get('since');
      const upd = lk.get('updated');
      if (since !== undefined) p.learnedSince = str(since, 'learned.since');
      if (upd !== undefined) p.updated = str(upd, 'learned.updated');
      if (p.learnedSince === undefined) delete p.learnedSince;
      if (p.updated === undefined) delete p.updated;
    }
  }
  if (issues.length) throw new ProfileError(issues);
  return normalizeProfile(p);
}
