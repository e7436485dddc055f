/**
 * Fact collectors: answer a benchmark's audit sources from the host under `root` (files, their
 * modes and owners, /proc), and from the Docker Engine API. No shell commands are run; owners are
 * named from <root>/etc/passwd and <root>/etc/group, never the machine's. Audit source grammar:
 *
 *   process BIN              command lines (argv joined by spaces) of the running BIN, one per line
 *   environ BIN              NAME=value lines of the running BIN's environment
 *   stat FMT PATH [type=file|dir|socket] [or TEXT]
 *                            FMT: permissions (permissions=644), owner (root:root, as kube-bench's
 *                            stat -c %U:%G), ownership (ownership=root:root), ids (ids=0:0),
 *                            user (root), uid (uid=0); empty (or TEXT) when PATH is missing / not TYPE
 *   stat-tree FMT DIR GLOB   one FMT line per file under DIR matching GLOB, or "no files matching GLOB";
 *                            empty when DIR is missing
 *   file PATH                the file's content
 *   audit-rules PATH         auditd rules (audit.rules, rules.d/*.rules) that mention PATH
 *   mountpoint PATH          "mountpoint=PATH" when PATH is its own mount in <root>/proc/mounts
 *   group-members NAME       "members=a,b" of the group in <root>/etc/group
 *   docker-api PATH          the JSON answer of GET PATH (e.g. /info)
 *   container / image        per running container (image): its inspect JSON plus derived `Bulwark` facts
 */
import { readdirSync, readFileSync, lstatSync, statSync, type Stats } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { BulwarkError } from '../core/errors.js';
import { dockerApi, type DockerApi } from './docker-api.js';
import { auditSources, parseConfigDoc } from './evaluator.js';
import { executeJsonPath } from './jsonpath.js';
import type { Benchmark, Facts, SubjectFacts, VariableSpec } from './types.js';

export interface CollectOptions {
  /** The host's root directory (default /); every host path is read under it. */
  root?: string;
  /** Docker Engine API endpoint: unix:///path or tcp://host:port (default unix://<root>/var/run/docker.sock). */
  dockerHost?: string;
  /** Bound on files read (bytes) — config files larger than this are an error. */
  maxFileBytes?: number;
}

export interface ProcessInfo {
  pid: number;
  argv: string[];
  env?: string[];
  start: number;
}

const MAX_FILE = 8 * 1024 * 1024;

/** A read-only view of a host under a root directory. */
export class HostView {
  readonly root: string;
  private procs?: ProcessInfo[];
  private users?: Map<number, string>;
  private groups?: Map<number, { name: string; members: string[] }>;
  constructor(
    root: string,
    private readonly maxFile = MAX_FILE,
  ) {
    this.root = resolve(root);
  }

  /** The absolute path of a host path under the root. */
  path(p: string): string {
    return join(this.root, p);
  }

  lstat(p: string): Stats | undefined {
    try {
      return lstatSync(this.path(p));
    } catch {
      return undefined;
    }
  }

  stat(p: string): Stats | undefined {
    try {
      return statSync(this.path(p));
    } catch {
      return undefined;
    }
  }

  read(p: string): string | undefined {
    const st = this.stat(p);
    if (!st || !st.isFile()) return undefined;
    if (st.size > this.maxFile)
      throw new BulwarkError(
        'LIMIT',
        `${p}: ${st.size} bytes, more than the ${this.maxFile} read for a benchmark`,
        {
          subject: p,
        },
      );
    try {
      return readFileSync(this.path(p), 'utf8');
    } catch {
      return undefined;
    }
  }

  processes(): ProcessInfo[] {
    if (this.procs) return this.procs;
    const out: ProcessInfo[] = [];
    let names: string[] = [];
    try {
      names = readdirSync(this.path('/proc'));
    } catch {
      // no /proc under the root: no processes
    }
    for (const n of names) {
      if (!/^\d+$/.test(n)) continue;
      let raw: string;
      try {
        raw = readFileSync(this.path(`/proc/${n}/cmdline`), 'utf8');
      } catch {
        continue;
      }
      const argv = raw.split('\0');
      if (argv[argv.length - 1] === '') argv.pop();
      if (!argv.length) continue;
      let start = 0;
      try {
        const stat = readFileSync(this.path(`/proc/${n}/stat`), 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        start = Number(fields[19]) || 0;
      } catch {
        // a fake root may have no stat file
      }
      out.push({ pid: Number(n), argv, start });
    }
    this.procs = out;
    return out;
  }

  environ(pid: number): string[] {
    try {
      return readFileSync(this.path(`/proc/${pid}/environ`), 'utf8')
        .split('\0')
        .filter(Boolean);
    } catch {
      return [];
    }
  }

  /** Running processes of a binary spec: "kubelet", or "hyperkube kubelet" (argv[0] and argv[1]). */
  findProcesses(bin: string): ProcessInfo[] {
    const words = bin.trim().split(/\s+/);
    return this.processes()
      .filter((p) => {
        if (basename(p.argv[0] ?? '') !== words[0]) return false;
        return words.slice(1).every((w, i) => p.argv[i + 1] === w);
      })
      .sort((a, b) => b.start - a.start || b.pid - a.pid);
  }

  private loadUsers(): void {
    if (this.users) return;
    this.users = new Map();
    this.groups = new Map();
    for (const line of (this.read('/etc/passwd') ?? '').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && /^\d+$/.test(f[2]!)) this.users.set(Number(f[2]), f[0]!);
    }
    for (const line of (this.read('/etc/group') ?? '').split('\n')) {
      const f = line.split(':');
      if (f.length >= 4 && /^\d+$/.test(f[2]!))
        this.groups.set(Number(f[2]), { name: f[0]!, members: f[3]!.split(',').filter(Boolean) });
    }
  }

  userName(uid: number): string {
    this.loadUsers();
    return this.users!.get(uid) ?? String(uid);
  }

  groupName(gid: number): string {
    this.loadUsers();
    return this.groups!.get(gid)?.name ?? String(gid);
  }

  groupMembers(name: string): string[] | undefined {
    this.loadUsers();
    for (const g of this.groups!.values()) if (g.name === name) return g.members;
    return undefined;
  }
}

/** The value of a flag in an argv: --name=value, --name value, or "true" for a bare boolean flag. */
export function argvFlag(argv: string[], name: string): string | undefined {
  let found: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === name) {
      const next = argv[i + 1];
      found = next !== undefined && !next.startsWith('-') ? next : 'true';
    } else if (a.startsWith(`${name}=`)) found = a.slice(name.length + 1);
  }
  return found;
}

function formatStat(host: HostView, fmt: string, st: Stats): string {
  switch (fmt) {
    case 'permissions':
      return `permissions=${(st.mode & 0o7777).toString(8)}`;
    case 'owner':
      return `${host.userName(st.uid)}:${host.groupName(st.gid)}`;
    case 'ids':
      return `ids=${st.uid}:${st.gid}`;
    case 'user':
      return host.userName(st.uid);
    case 'uid':
      return `uid=${st.uid}`;
    case 'ownership':
      return `ownership=${host.userName(st.uid)}:${host.groupName(st.gid)}`;
    default:
      throw new BulwarkError(
        'PARSE',
        `audit "stat ${fmt}": unknown format (permissions, owner, ownership, ids, user, uid)`,
      );
  }
}

function typeMatches(st: Stats, type: string | undefined): boolean {
  if (!type) return true;
  if (type === 'file') return st.isFile();
  if (type === 'dir') return st.isDirectory();
  if (type === 'socket') return st.isSocket();
  throw new BulwarkError('PARSE', `audit stat: unknown type=${type} (file, dir, socket)`);
}

function globRegex(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

function walkFiles(host: HostView, dir: string, re: RegExp, out: string[], depth = 0): void {
  if (depth > 16 || out.length > 10_000) return;
  let names: string[];
  try {
    names = readdirSync(host.path(dir)).sort();
  } catch {
    return;
  }
  for (const n of names) {
    const p = `${dir.replace(/\/$/, '')}/${n}`;
    const st = host.lstat(p);
    if (!st) continue;
    if (st.isDirectory()) walkFiles(host, p, re, out, depth + 1);
    else if (st.isFile() && re.test(n)) out.push(p);
  }
}

function auditRuleFiles(host: HostView): string[] {
  const files = ['/etc/audit/audit.rules'];
  try {
    for (const n of readdirSync(host.path('/etc/audit/rules.d')).sort())
      if (n.endsWith('.rules')) files.push(`/etc/audit/rules.d/${n}`);
  } catch {
    // no rules.d
  }
  return files;
}

/** Mount points listed in <root>/proc/mounts (octal escapes decoded). */
function mountPoints(host: HostView): Set<string> {
  const text = host.read('/proc/mounts') ?? host.read('/proc/self/mounts') ?? '';
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (f.length >= 2)
      out.add(f[1]!.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  }
  return out;
}

/** Answers one host audit source. */
export function hostSource(host: HostView, source: string, selected: Map<string, ProcessInfo[]>): string {
  const m = /^(\S+)\s*(.*)$/s.exec(source.trim());
  if (!m) return '';
  const [, verb, rest = ''] = m;
  switch (verb) {
    case 'process':
      return (selected.get(rest) ?? host.findProcesses(rest)).map((p) => p.argv.join(' ')).join('\n');
    case 'environ':
      return (selected.get(rest) ?? host.findProcesses(rest))
        .map((p) => host.environ(p.pid).join('\n'))
        .join('\n');
    case 'stat': {
      const mm = /^(\S+)\s+(\S*)((?:\s+type=\S+)?)(?:\s+or\s+(.*))?$/s.exec(rest);
      if (!mm)
        throw new BulwarkError('PARSE', `audit "${source}": expected stat FMT PATH [type=T] [or TEXT]`);
      const [, fmt, path, typ, orText] = mm;
      const st = path ? host.stat(path) : undefined;
      if (!st || !typeMatches(st, typ?.trim().slice(5) || undefined)) return orText ?? '';
      return formatStat(host, fmt!, st);
    }
    case 'stat-tree': {
      const [fmt, dir, glob = '*'] = rest.split(/\s+/);
      if (!dir || !host.stat(dir)?.isDirectory()) return '';
      const files: string[] = [];
      walkFiles(host, dir, globRegex(glob), files);
      if (!files.length) return `no files matching ${glob}`;
      return files.map((f) => formatStat(host, fmt!, host.stat(f)!)).join('\n');
    }
    case 'file':
      return rest ? (host.read(rest) ?? '') : '';
    case 'audit-rules': {
      const lines: string[] = [];
      for (const f of auditRuleFiles(host))
        for (const line of (host.read(f) ?? '').split('\n')) {
          const t = line.trim();
          if (!t || t.startsWith('#')) continue;
          if (t.split(/\s+/).some((w) => w === rest || w === `path=${rest}` || w === `dir=${rest}`))
            lines.push(t);
        }
      return lines.join('\n');
    }
    case 'mountpoint':
      return mountPoints(host).has(rest) ? `mountpoint=${rest}` : '';
    case 'group-members': {
      const members = host.groupMembers(rest);
      return members === undefined ? '' : `members=${members.join(',')}`;
    }
    default:
      throw new BulwarkError('PARSE', `unknown audit source "${verb}" in "${source}"`);
  }
}

/** Resolves the benchmark's $variables on the host. */
export function resolveVariables(
  host: HostView,
  specs: Record<string, VariableSpec>,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const vars: Record<string, string> = {};
  const order = Object.keys(specs).sort(
    (a, b) => (specs[a]!.kind === 'bin' ? -1 : 0) - (specs[b]!.kind === 'bin' ? -1 : 0),
  );
  for (const name of order) {
    const spec = specs[name]!;
    if (overrides[name] !== undefined) {
      vars[name] = overrides[name];
      continue;
    }
    if (spec.kind === 'value') vars[name] = spec.default ?? '';
    else if (spec.kind === 'bin') {
      const cands = spec.candidates ?? [];
      vars[name] =
        cands.find((c) => host.findProcesses(c).length) ?? spec.default ?? cands[cands.length - 1] ?? '';
    }
  }
  for (const name of order) {
    const spec = specs[name]!;
    if (spec.kind !== 'file' || overrides[name] !== undefined) continue;
    let v: string | undefined;
    if (spec.flag) {
      const proc = host.findProcesses(vars[spec.flag.process] ?? spec.flag.process)[0];
      if (proc) v = argvFlag(proc.argv, spec.flag.name);
    }
    if (!v && spec.config) {
      const file = vars[spec.config.file];
      let text: string | undefined;
      try {
        text = file ? host.read(file) : undefined;
      } catch {
        text = undefined; // an unreadable config is reported by the checks that read it
      }
      if (text) {
        const p = parseConfigDoc(text);
        if (p.doc !== undefined) {
          try {
            v = executeJsonPath(spec.config.path, p.doc) || undefined;
          } catch {
            v = undefined;
          }
        }
      }
    }
    v ??= (spec.candidates ?? []).find((c) => host.stat(c) !== undefined) ?? spec.default ?? '';
    vars[name] = v;
  }
  return vars;
}

// ---------------------------------------------------------------- Docker

/** Capabilities Docker grants by default (docker-bench's list for 5.4). */
const DEFAULT_CAPS = new Set(
  'AUDIT_WRITE CHOWN DAC_OVERRIDE FOWNER FSETID KILL MKNOD NET_BIND_SERVICE NET_RAW SETFCAP SETGID SETPCAP SETUID SYS_CHROOT'.split(
    ' ',
  ),
);
const SENSITIVE_DIRS = new Set(['/', '/boot', '/dev', '/etc', '/lib', '/proc', '/sys', '/usr']);

type Json = Record<string, unknown>;
const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/**
 * Facts derived from a container's inspect (and the daemon's settings) that the checks test with
 * plain paths, e.g. {.Bulwark.CapAddNonDefault}. Empty values are left out (the path is "not set").
 */
export function deriveContainerFacts(
  inspect: Json,
  extra: { processes?: string[][]; docker0?: boolean; daemonNoNewPrivileges?: boolean },
): Json {
  const hc = obj(inspect.HostConfig);
  const mounts = arr(inspect.Mounts).map(obj);
  const secOpt = arr(hc.SecurityOpt).map(String);
  const caps = arr(hc.CapAdd)
    .map((c) => String(c).toUpperCase().replace(/^CAP_/, ''))
    .filter((c) => !DEFAULT_CAPS.has(c));
  const bindings: { hostIp: string; hostPort: number }[] = [];
  for (const list of Object.values(obj(obj(inspect.NetworkSettings).Ports)))
    for (const b of arr(list).map(obj))
      bindings.push({ hostIp: String(b.HostIp ?? ''), hostPort: Number(b.HostPort ?? 0) });
  const seccomp = secOpt.find((o) => /^seccomp[:=]/.test(o));
  const d: Json = {
    CapAddNonDefault: caps.join(','),
    SecurityOpt: secOpt.join(' '),
    SeccompProfile: seccomp ? seccomp.slice('seccomp:'.length) : '',
    NoNewPrivileges:
      secOpt.some((o) => o.includes('no-new-privileges')) || extra.daemonNoNewPrivileges === true,
    SensitiveMountsRW: mounts
      .filter(
        (m) =>
          m.RW === true &&
          (SENSITIVE_DIRS.has(String(m.Source)) || SENSITIVE_DIRS.has(String(m.Destination))),
      )
      .map((m) => `${String(m.Source)}:${String(m.Destination)}`)
      .join(','),
    MountPaths: mounts.map((m) => `${String(m.Source ?? '')} ${String(m.Destination ?? '')}`).join(' '),
    SharedPropagation: mounts
      .filter((m) => String(m.Propagation ?? '').includes('shared'))
      .map((m) => String(m.Destination))
      .join(','),
    HostPorts: bindings
      .filter((b) => b.hostPort)
      .map((b) => b.hostPort)
      .join(','),
    PrivilegedHostPorts: bindings
      .filter((b) => b.hostPort && b.hostPort < 1025)
      .map((b) => b.hostPort)
      .join(','),
    WildcardHostIPs: bindings.filter((b) => b.hostIp === '0.0.0.0' || b.hostIp === '').length ? 'true' : '',
    Devices: arr(hc.Devices)
      .map((x) => String(obj(x).PathOnHost))
      .join(','),
    Ulimits: arr(hc.Ulimits)
      .map((x) => `${String(obj(x).Name)}=${String(obj(x).Soft)}:${String(obj(x).Hard)}`)
      .join(','),
    SshdProcesses: (extra.processes ?? []).filter((p) => p.join(' ').includes('sshd')).length,
    OnDocker0: extra.docker0 === true,
  };
  for (const k of Object.keys(d)) if (d[k] === '') delete d[k];
  return d;
}

async function dockerFacts(
  api: DockerApi,
  want: { container: boolean; image: boolean; hostPaths: string[] },
  daemonNoNewPrivileges: boolean,
): Promise<{
  host: Record<string, string>;
  hostErrors: Record<string, string>;
  containers: SubjectFacts[];
  images: SubjectFacts[];
}> {
  const host: Record<string, string> = {};
  const hostErrors: Record<string, string> = {};
  for (const p of want.hostPaths) {
    try {
      host[`docker-api ${p}`] = JSON.stringify(await api.get(p));
    } catch (e) {
      hostErrors[`docker-api ${p}`] = (e as Error).message;
    }
  }
  const containers: SubjectFacts[] = [];
  if (want.container) {
    const docker0 = new Set<string>();
    try {
      for (const n of arr(await api.get('/networks')).map(obj))
        if (obj(n.Options)['com.docker.network.bridge.name'] === 'docker0') {
          const detail = obj(await api.get(`/networks/${encodeURIComponent(String(n.Id))}`));
          for (const id of Object.keys(obj(detail.Containers))) docker0.add(id);
        }
    } catch {
      // networks unavailable: no container is reported on docker0
    }
    for (const c of arr(await api.get('/containers/json')).map(obj)) {
      const id = String(c.Id);
      let inspect: Json;
      try {
        inspect = obj(await api.get(`/containers/${encodeURIComponent(id)}/json`));
      } catch (e) {
        if ((e as Error).message.includes('HTTP 404')) continue; // removed since the listing
        throw e;
      }
      let processes: string[][] = [];
      try {
        const top = obj(await api.get(`/containers/${encodeURIComponent(id)}/top`));
        processes = arr(top.Processes).map((p) => arr(p).map(String));
      } catch {
        // a container that stopped in between
      }
      inspect.Bulwark = deriveContainerFacts(inspect, {
        processes,
        docker0: docker0.has(id),
        daemonNoNewPrivileges,
      });
      containers.push({
        id,
        name: String(inspect.Name ?? '').replace(/^\//, ''),
        outputs: { container: JSON.stringify(inspect) },
      });
    }
  }
  const images: SubjectFacts[] = [];
  if (want.image) {
    for (const im of arr(await api.get('/images/json')).map(obj)) {
      const id = String(im.Id);
      let inspect: Json;
      try {
        inspect = obj(await api.get(`/images/${encodeURIComponent(id)}/json`));
      } catch (e) {
        if ((e as Error).message.includes('HTTP 404')) continue;
        throw e;
      }
      const tags = arr(im.RepoTags).map(String);
      images.push({ id, name: tags[0] ?? id, outputs: { image: JSON.stringify(inspect) } });
    }
  }
  return { host, hostErrors, containers, images };
}

/** Collects every fact the benchmark's checks need. */
export async function collectFacts(bench: Benchmark, opts: CollectOptions = {}): Promise<Facts> {
  const root = resolve(opts.root ?? '/');
  const rootStat = (() => {
    try {
      return statSync(root);
    } catch {
      return undefined;
    }
  })();
  if (!rootStat?.isDirectory())
    throw new BulwarkError('NOT_FOUND', `--root ${root}: not a directory`, { subject: root });
  const host = new HostView(root, opts.maxFileBytes);
  const dockerHost = opts.dockerHost ?? `unix://${join(root, 'var/run/docker.sock')}`;
  const selected = new Map<string, ProcessInfo[]>();
  if (bench.target === 'docker') {
    // the daemon behind --docker-host when several run, else the newest
    const all = host.findProcesses('dockerd');
    const sock = dockerHost.startsWith('unix://') ? dockerHost.slice(7) : dockerHost;
    const mine = all.filter((p) => p.argv.some((a) => a.includes(sock)));
    if (all.length) selected.set('dockerd', [mine[0] ?? all[0]!]);
  }
  const overrides: Record<string, string> = {};
  const vars = resolveVariables(host, bench.variables ?? {}, overrides);
  if (bench.target === 'docker' && bench.variables?.daemonjson) {
    // daemon.json keys stand in for the dockerd flags the file checks look at (tlscacert...)
    let text: string | undefined;
    try {
      text = vars.daemonjson ? host.read(vars.daemonjson) : undefined;
    } catch {
      text = undefined;
    }
    const doc = text ? (parseConfigDoc(text).doc as Json | undefined) : undefined;
    for (const k of ['tlscacert', 'tlscert', 'tlskey'])
      if (doc && typeof doc[k] === 'string' && doc[k]) vars[k] = doc[k];
  }
  const sources = auditSources(bench, vars);
  const outputs: Record<string, string> = {};
  const errors: Record<string, string> = {};
  const dockerPaths: string[] = [];
  for (const s of sources.host) {
    if (s.startsWith('docker-api ')) {
      dockerPaths.push(s.slice('docker-api '.length).trim());
      continue;
    }
    try {
      outputs[s] = hostSource(host, s, selected);
      if (outputs[s] === '' && s.startsWith('process '))
        errors[s] = `no running ${s.slice('process '.length)} process in ${join(root, 'proc')}`;
    } catch (e) {
      if (e instanceof BulwarkError && e.code === 'PARSE') throw e;
      errors[s] = (e as Error).message;
    }
  }
  let containers: SubjectFacts[] = [];
  let images: SubjectFacts[] = [];
  if (dockerPaths.length || sources.container.size || sources.image.size) {
    let daemonDoc: unknown;
    try {
      daemonDoc = vars.daemonjson ? parseConfigDoc(host.read(vars.daemonjson) ?? '{}').doc : undefined;
    } catch {
      daemonDoc = undefined;
    }
    const daemonNnp =
      obj(daemonDoc)['no-new-privileges'] === true ||
      (selected.get('dockerd')?.[0]?.argv.some((a) => a.startsWith('--no-new-privileges')) ?? false);
    const api = dockerApi(dockerHost);
    try {
      const d = await dockerFacts(
        api,
        { container: sources.container.size > 0, image: sources.image.size > 0, hostPaths: dockerPaths },
        daemonNnp,
      );
      Object.assign(outputs, d.host);
      Object.assign(errors, d.hostErrors);
      containers = d.containers;
      images = d.images;
    } catch (e) {
      for (const p of dockerPaths) errors[`docker-api ${p}`] = (e as Error).message;
      errors.container = errors.image = (e as Error).message;
    }
    // container and image checks also read host facts (dockerd flags, daemon.json)
    for (const s of [...containers, ...images]) s.outputs = { ...outputs, ...s.outputs };
  }
  return { target: bench.target, root, vars, host: { outputs, errors }, containers, images };
}
