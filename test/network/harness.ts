/**
 * A real namespace harness: "pods" as network namespaces (ip netns, names bwk-<random>-...) with
 * veth pairs on a bridge that lives in a namespace the harness creates too, so the host's own
 * network set-up is never touched. Each pod runs a small Node listener (TCP: answers "ok"; UDP:
 * echoes "ok"), connections are made by a Node client inside the source namespace, and flows are
 * observed with `conntrack -E` inside every pod namespace (after a conntrack-using NFLOG rule
 * there, without which the namespace reports no events). Protect mode applies iptables-restore
 * input inside each pod namespace. Needs root, iproute2, iptables, conntrack (scripts/install-deps.sh).
 *
 * Everything it creates is recorded and removed by cleanup(), which is safe to call after any failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PodSpec {
  namespace: string;
  name: string;
  kind: string;
  labels: Record<string, string>;
  ports: { port: number; protocol: 'TCP' | 'UDP'; name?: string }[];
}

export interface Pod extends PodSpec {
  netns: string;
  ip: string;
  /** with setup(specs, {ipv6: true}): the pod's IPv6 address (fd77::N) */
  ip6?: string;
}

export interface Probe {
  src: Pod;
  dst: Pod;
  protocol: 'TCP' | 'UDP';
  port: number;
  /** probe the destination's IPv6 address */
  v6?: boolean;
}

const LISTENER = `
import net from 'node:net';
import dgram from 'node:dgram';
const ports = JSON.parse(process.argv[2]);
const v6 = process.argv[3] === '6';
let pending = ports.length;
const ready = () => { if (--pending === 0) process.stdout.write('ready\\n'); };
for (const p of ports) {
  if (p.protocol === 'TCP') net.createServer((c) => { c.on('error', () => {}); c.end('ok\\n'); }).listen(p.port, v6 ? '::' : '0.0.0.0', ready);
  else { const s = dgram.createSocket(v6 ? 'udp6' : 'udp4'); s.on('message', (m, r) => s.send('ok', r.port, r.address)); s.bind(p.port, v6 ? '::' : '0.0.0.0', ready); }
}
`;

const CLIENT = `
import net from 'node:net';
import dgram from 'node:dgram';
const probes = JSON.parse(process.argv[2]);
const timeout = Number(process.argv[3] ?? 1500);
function tcp(ip, port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port });
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, timeout);
    let data = '';
    s.on('data', (d) => { data += d; if (data.includes('ok')) { clearTimeout(t); s.destroy(); resolve('ok'); } });
    s.on('error', (e) => { clearTimeout(t); resolve(e.code ?? 'error'); });
  });
}
function udp(ip, port) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(ip.includes(':') ? 'udp6' : 'udp4');
    const t = setTimeout(() => { s.close(); resolve('timeout'); }, timeout);
    s.on('message', () => { clearTimeout(t); s.close(); resolve('ok'); });
    s.on('error', (e) => { clearTimeout(t); s.close(); resolve(e.code ?? 'error'); });
    s.connect(port, ip, () => s.send('ping'));
  });
}
const out = await Promise.all(probes.map((p) => (p.protocol === 'TCP' ? tcp(p.ip, p.port) : udp(p.ip, p.port))));
process.stdout.write(JSON.stringify(out) + '\\n');
`;

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, timeout: 20_000 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(' ')}: exit ${r.status}: ${r.stderr || r.error?.message}`);
  return r.stdout;
}

/** Why the harness cannot run here, or undefined when it can. */
export function harnessUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  for (const tool of ['ip', 'iptables-restore', 'conntrack', 'stdbuf'])
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0)
      return `${tool} is not installed (scripts/install-deps.sh)`;
  return undefined;
}

export class Harness {
  readonly id = `bwk-${randomBytes(3).toString('hex')}`;
  readonly node = `${this.id}-node`;
  readonly pods: Pod[] = [];
  private readonly netns: string[] = [];
  private readonly procs: ChildProcess[] = [];
  private readonly dir = mkdtempSync(join(tmpdir(), 'bulwark-netns-'));
  private conntrack: { proc: ChildProcess; lines: string[] }[] = [];

  /** Creates the bridge namespace and one namespace per pod with its veth, address and listener. */
  async setup(specs: PodSpec[], opts: { ipv6?: boolean } = {}): Promise<void> {
    writeFileSync(join(this.dir, 'listener.mjs'), LISTENER);
    writeFileSync(join(this.dir, 'client.mjs'), CLIENT);
    this.addNetns(this.node);
    run('ip', ['-n', this.node, 'link', 'add', 'br0', 'type', 'bridge']);
    run('ip', ['-n', this.node, 'link', 'set', 'br0', 'up']);
    specs.forEach((s, i) => {
      const netns = `${this.id}-${s.namespace}-${s.name}`.slice(0, 60);
      const ip = `10.77.0.${i + 2}`;
      this.addNetns(netns);
      run('ip', [
        '-n',
        this.node,
        'link',
        'add',
        `v${i}`,
        'type',
        'veth',
        'peer',
        'name',
        'eth0',
        'netns',
        netns,
      ]);
      run('ip', ['-n', this.node, 'link', 'set', `v${i}`, 'master', 'br0', 'up']);
      // IPv6 off unless asked for: router solicitations and MLD reports would be flows nobody scripted
      if (!opts.ipv6)
        run('ip', ['netns', 'exec', netns, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1']);
      run('ip', ['-n', netns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
      const ip6 = opts.ipv6 ? `fd77::${i + 2}` : undefined;
      if (ip6) run('ip', ['-n', netns, 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad']);
      run('ip', ['-n', netns, 'link', 'set', 'eth0', 'up']);
      run('ip', ['-n', netns, 'link', 'set', 'lo', 'up']);
      this.pods.push({ ...s, netns, ip, ...(ip6 ? { ip6 } : {}) });
    });
    await Promise.all(this.pods.map((p) => this.startListener(p, opts.ipv6 === true)));
  }

  private addNetns(name: string): void {
    run('ip', ['netns', 'add', name]);
    this.netns.push(name);
  }

  private startListener(p: Pod, v6: boolean): Promise<void> {
    const proc = spawn(
      'ip',
      [
        'netns',
        'exec',
        p.netns,
        process.execPath,
        join(this.dir, 'listener.mjs'),
        JSON.stringify(p.ports),
        v6 ? '6' : '4',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    this.procs.push(proc);
    return new Promise((resolve, reject) => {
      let err = '';
      proc.stderr!.on('data', (d) => (err += d));
      proc.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
      proc.on('exit', (code) => reject(new Error(`listener in ${p.netns} exited ${code}: ${err}`)));
    });
  }

  /** The workload inventory (`--workloads` file) of the pods: each one's IP and network namespace. */
  inventory(): { workloads: Record<string, unknown>[] } {
    return {
      workloads: this.pods.map((p) => ({
        namespace: p.namespace,
        name: p.name,
        kind: p.kind,
        labels: p.labels,
        ips: [p.ip],
        netns: [p.netns],
        ports: p.ports,
      })),
    };
  }

  /**
   * Starts `conntrack -E` in every pod namespace (after the rule that makes conntrack report there);
   * `onLine` sees each line (prefixed netns=NAME) as it arrives.
   */
  async startConntrack(onLine?: (line: string) => void): Promise<void> {
    for (const p of this.pods) {
      run('ip', [
        'netns',
        'exec',
        p.netns,
        'iptables',
        '-A',
        'OUTPUT',
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'NFLOG',
      ]);
      run('ip', [
        'netns',
        'exec',
        p.netns,
        'iptables',
        '-A',
        'INPUT',
        '-m',
        'conntrack',
        '--ctstate',
        'NEW',
        '-j',
        'NFLOG',
      ]);
      const proc = spawn(
        'ip',
        ['netns', 'exec', p.netns, 'stdbuf', '-oL', 'conntrack', '-E', '-o', 'timestamp'],
        {
          stdio: ['ignore', 'pipe', 'ignore'],
        },
      );
      this.procs.push(proc);
      const rec = { proc, lines: [] as string[] };
      let buf = '';
      proc.stdout!.on('data', (d) => {
        buf += d;
        const parts = buf.split('\n');
        buf = parts.pop()!;
        for (const l of parts)
          if (l.trim()) {
            rec.lines.push(`netns=${p.netns} ${l}`);
            onLine?.(`netns=${p.netns} ${l}`);
          }
      });
      this.conntrack.push(rec);
    }
    await new Promise((r) => setTimeout(r, 500)); // the event subscriptions are in place
  }

  /** Stops the conntrack readers and returns their lines (prefixed netns=NAME). */
  async stopConntrack(): Promise<string[]> {
    await new Promise((r) => setTimeout(r, 300));
    const lines = this.conntrack.flatMap((c) => c.lines);
    await Promise.all(this.conntrack.map((c) => this.stop(c.proc)));
    this.conntrack = [];
    return lines;
  }

  /** Runs probes (one client process per source namespace, in parallel); true = answered. */
  async probe(probes: Probe[], timeoutMs = 1500): Promise<boolean[]> {
    const bySrc = new Map<Pod, number[]>();
    probes.forEach((p, i) => bySrc.set(p.src, [...(bySrc.get(p.src) ?? []), i]));
    const results: boolean[] = new Array(probes.length).fill(false);
    await Promise.all(
      [...bySrc].map(async ([src, idx]) => {
        const list = idx.map((i) => ({
          ip: probes[i]!.v6 ? probes[i]!.dst.ip6! : probes[i]!.dst.ip,
          protocol: probes[i]!.protocol,
          port: probes[i]!.port,
        }));
        const out = await this.exec(src, [
          process.execPath,
          join(this.dir, 'client.mjs'),
          JSON.stringify(list),
          String(timeoutMs),
        ]);
        const res = JSON.parse(out) as string[];
        idx.forEach((i, j) => (results[i] = res[j] === 'ok'));
      }),
    );
    return results;
  }

  private exec(p: Pod, argv: string[]): Promise<string> {
    const proc = spawn('ip', ['netns', 'exec', p.netns, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.procs.push(proc);
    return new Promise((resolve, reject) => {
      let out = '';
      let err = '';
      proc.stdout!.on('data', (d) => (out += d));
      proc.stderr!.on('data', (d) => (err += d));
      proc.on('exit', (code) =>
        code === 0
          ? resolve(out)
          : reject(new Error(`${argv.join(' ')} in ${p.netns}: exit ${code}: ${err}`)),
      );
    });
  }

  /** Replaces the filter table of a pod's namespace (iptables-restore input). */
  applyIptables(p: Pod, rules: string, family: 4 | 6 = 4): void {
    run('ip', ['netns', 'exec', p.netns, family === 6 ? 'ip6tables-restore' : 'iptables-restore'], rules);
  }

  /** The pod namespace's rules (with packet counters when `counters`). */
  iptablesSave(p: Pod, counters = false): string {
    return run('ip', ['netns', 'exec', p.netns, 'iptables-save', ...(counters ? ['-c'] : [])]);
  }

  private stop(proc: ChildProcess): Promise<void> {
    if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => proc.kill('SIGKILL'), 2000);
      proc.once('exit', () => {
        clearTimeout(t);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  }

  /** Kills every process it started and deletes every namespace it created (veths go with them). */
  async cleanup(): Promise<void> {
    await Promise.all(this.procs.map((p) => this.stop(p)));
    for (const n of this.netns.reverse()) spawnSync('ip', ['netns', 'del', n]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Namespaces of this harness still present (empty after cleanup). */
  leftovers(): string[] {
    return run('ip', ['netns', 'list'])
      .split('\n')
      .map((l) => l.split(' ')[0]!)
      .filter((n) => n.startsWith(this.id));
  }
}
