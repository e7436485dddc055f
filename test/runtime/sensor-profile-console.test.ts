/**
 * The console's half of profiles and responses, live (#10): a real `bulwark server` process
 * (SQLite), a real `bulwark agent --profiles DIR --responses FILE --server URL --heartbeat 1`
 * process with the eBPF sensor and the execguard helper, and real runc containers (Debian
 * fixture image). Nothing of the console's or the agent's code is called in this process: the test
 * talks to the console's API as an operator would, runs containers, and looks at what they print.
 *
 *   report   the agent learns two workloads (discover) and reports their profiles: the console
 *            lists them with their executables
 *   protect  an operator sets "webapp" to protect in the console; the agent pulls it at its next
 *            heartbeat and applies it without a restart (it starts the execguard): the console
 *            shows the mode it holds, and an unlearned binary in a new container is refused
 *            before exec (no output from it, exit 126), a blocked deviation in the console
 *   undo     "pauseme" set to monitor from the console; an unlearned exec in it triggers the
 *            policy's pause (the container frozen: nothing runs); the operator undoes the pause in
 *            the console; the agent pulls the command, resumes the container (the script completes)
 *            and reports the resume, naming the command: the console shows the response undone
 *   quarantine, capture  "isolate" (its own network namespace, a veth to the host) in monitor
 *            mode; an unlearned exec triggers quarantine and a capture: an open TCP connection stops
 *            delivering; the operator releases it from the console (it delivers again, everything
 *            arrives) and stops the capture from the console (its pcap files hold the packets)
 * The mode switches and the undos are in the console's audit log.
 * Named sensor-* so the runner runs it alone. Everything (agent, console, containers, a frozen
 * cgroup, the netns and its veth, the capture files) is cleaned up in `after`, whatever failed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { freezerOf, isFrozen, setFrozen, type FreezeTarget } from '../../src/runtime/respond/index.js';
import { workloadId } from '../../src/runtime/profile/index.js';
import { sensorBuildScript } from '../../src/runtime/sensor/index.js';
import { freePort } from '../fixtures/index.js';
import { ProfileBundle } from '../helpers/runc-profile.js';
import { BULWARK_FROM_SOURCE } from '../helpers/cli.js';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const DIGEST = 'sha256:' + createHash('sha256').update('bulwark-profile-console-fixture').digest('hex');
const annotations = (name: string) => ({
  'org.opencontainers.container.name': name,
  'org.opencontainers.image.base.digest': DIGEST,
});
const idOf = (name: string) => workloadId({ container: name, imageDigest: DIGEST });
const PASSWORD = 'correct horse battery staple 10';
const POLICY = `apiVersion: bulwark.dev/v1alpha1
kind: ResponsePolicy
responses:
  - name: pause-unlearned
    match: { kinds: [deviation], deviations: [exe], workloads: ["image:*:pauseme"] }
    actions: [pause]
  - name: isolate-unlearned
    match: { kinds: [deviation], deviations: [exe], workloads: ["image:*:isolate"] }
    actions: [quarantine, capture]
    capture: { seconds: 60, files: 2, mb: 1 }
`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-profile-console-'));
const bundle = new ProfileBundle();
const procs: ChildProcess[] = [];
let frozen: FreezeTarget | undefined;
let base = '';
let agentErr = '';
let agentOut = '';
let agent: ChildProcess | undefined;
const NS = `bwk-pcon-${process.pid}`;
const HOST_IF = `bwkc${process.pid % 100000}a`;
const NS_IF = `bwkc${process.pid % 100000}b`;
const NET = `10.238.${process.pid % 250}`;
let netnsMade = false;
let tcp: Server | undefined;
const captureDirs: string[] = [];
/** when the agent said it carried out each console command */
const carriedAt = new Map<number, number>();

function cli(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  const c = spawn(process.execPath, [...BULWARK_FROM_SOURCE, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  procs.push(c);
  return c;
}

/** A console client: session cookie and CSRF header, as the web UI sends them. */
class Api {
  private cookie = '';
  private csrf = '';
  async login(username: string, password: string): Promise<this> {
    const r = await request(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    });
    await r.body.text();
    assert.equal(r.statusCode, 200, `login ${username}`);
    const set = ([] as string[]).concat(r.headers['set-cookie'] ?? []);
    this.cookie = set.map((c) => c.split(';')[0]).join('; ');
    this.csrf = /bulwark_csrf=([^;]*)/.exec(this.cookie)?.[1] ?? '';
    return this;
  }
  async req<T = any>(
    method: 'GET' | 'POST' | 'PUT',
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    const r = await request(base + path, {
      method,
      headers: {
        cookie: this.cookie,
        ...(method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await r.body.text();
    return { status: r.statusCode, body: (text ? JSON.parse(text) : undefined) as T };
  }
}

async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}\nagent stderr:\n${agentErr.slice(-3000)}`);
    await sleep(100);
  }
}

interface Workload {
  workload: string;
  mode: string;
  counts: { executables: number };
}
interface Detail {
  nodes: { node: string; mode: string }[];
  deviations: {
    id: number;
    type: string;
    value: string;
    action: string;
    mode: string;
    containerId: string;
  }[];
  responses: {
    id: number;
    eventId: string;
    action: string;
    state: string;
    containerId: string;
    undoneBy?: { action: string; automatic: boolean; eventId: string };
    command?: { id: number; state: string; createdBy: string; resultEvent: string | null };
  }[];
}

describe(
  'console: profiles reported, mode switch and undo pulled by a live agent',
  { timeout: 240_000 },
  () => {
    let op: Api;
    let admin: Api;
    const detail = async (name: string) =>
      (
        await op.req<Detail>(
          'GET',
          `/api/runtime/workload?cluster=live&workload=${encodeURIComponent(idOf(name))}`,
        )
      ).body;

    before(async () => {
      execFileSync('bash', [sensorBuildScript(), '--require'], { stdio: ['ignore', 'ignore', 'inherit'] });
      execFileSync('bash', [join(ROOT, 'scripts', 'build-execguard.sh'), '--require'], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      await bundle.open();
      const port = await freePort();
      const server = cli(
        [
          'server',
          '--listen',
          `127.0.0.1:${port}`,
          '--data',
          join(tmp, 'data'),
          '--db',
          join(tmp, 'no-advisories.db'),
        ],
        { BULWARK_ADMIN_USER: 'admin', BULWARK_ADMIN_PASSWORD: PASSWORD },
      );
      let serr = '';
      server.stderr!.setEncoding('utf8').on('data', (d: string) => (serr += d));
      server.stdout!.resume();
      const end = Date.now() + 60_000;
      while (!/Bulwark console: /.test(serr)) {
        if (Date.now() > end || server.exitCode !== null) throw new Error(`console did not start: ${serr}`);
        await sleep(50);
      }
      base = `http://127.0.0.1:${port}`;
      admin = await new Api().login('admin', PASSWORD);
      assert.equal(
        (
          await admin.req('POST', '/api/users', {
            username: 'otto',
            password: 'operator password 1',
            role: 'operator',
          })
        ).status,
        201,
      );
      op = await new Api().login('otto', 'operator password 1');
      const tok = await admin.req<{ token: string }>('POST', '/api/tokens', {
        name: 'agent',
        role: 'operator',
        cluster: 'live',
      });
      assert.equal(tok.status, 201);
      writeFileSync(join(tmp, 'responses.yaml'), POLICY);
      agent = cli(
        [
          'agent',
          '--profiles',
          join(tmp, 'profiles'),
          '--responses',
          join(tmp, 'responses.yaml'),
          '--server',
          base,
          '--cluster',
          'live',
          '--hostname',
          'node-live',
          '--heartbeat',
          '1',
          '--buffer-dir',
          join(tmp, 'buffer'),
          '-f',
          'json',
        ],
        { BULWARK_TOKEN: tok.body.token },
      );
      agent.stderr!.setEncoding('utf8').on('data', (d: string) => {
        agentErr += d;
        for (const m of d.matchAll(/console command (\d+) carried out/g))
          carriedAt.set(Number(m[1]), Date.now());
      });
      agent.stdout!.setEncoding('utf8').on('data', (d: string) => (agentOut += d));
      const end2 = Date.now() + 60_000;
      while (!agentErr.includes('sensor attached')) {
        if (Date.now() > end2 || agent.exitCode !== null) throw new Error(`agent did not start: ${agentErr}`);
        await sleep(50);
      }
    });

    after(async () => {
      // a container left frozen by a failed test is thawed before it is deleted
      if (frozen) await setFrozen(frozen, false).catch(() => undefined);
      for (const p of procs.reverse())
        if (p.exitCode === null && p.signalCode === null) {
          p.kill('SIGTERM');
          const gone = await Promise.race([
            new Promise<boolean>((r) => p.once('exit', () => r(true))),
            sleep(10_000).then(() => false),
          ]);
          if (!gone) p.kill('SIGKILL');
        }
      bundle.close();
      tcp?.close();
      if (netnsMade) execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' });
      for (const d of captureDirs) rmSync(d, { recursive: true, force: true });
      rmSync(tmp, { recursive: true, force: true });
    });

    it('the agent reports what it learned; the console lists the workloads in discover mode', async () => {
      for (const name of ['webapp', 'pauseme']) {
        await until(`the console to list ${name}`, async () => {
          const r = await bundle.run(['/bin/sh', '-c', 'echo start; sleep 0.05; echo end; sleep 0.3'], {
            annotations: annotations(name),
          });
          assert.equal(r.code, 0, r.stderr);
          const end = Date.now() + 5000;
          while (Date.now() < end) {
            const w = (
              await op.req<{ items: Workload[] }>('GET', '/api/runtime/workloads?cluster=live')
            ).body.items.find((x) => x.workload === idOf(name));
            if (w && w.counts.executables >= 2) return w;
            await sleep(200);
          }
          return undefined;
        });
      }
      const items = (await op.req<{ items: Workload[] }>('GET', '/api/runtime/workloads?cluster=live')).body
        .items;
      for (const name of ['webapp', 'pauseme']) {
        const w = items.find((x) => x.workload === idOf(name))!;
        assert.equal(w.mode, 'discover');
      }
      const d = await detail('webapp');
      const p = (
        await op.req<{ profile: { executables: { path: string }[] } }>(
          'GET',
          `/api/runtime/workload?cluster=live&workload=${encodeURIComponent(idOf('webapp'))}`,
        )
      ).body.profile;
      assert.ok(
        p.executables.some((e) => e.path === '/usr/bin/sleep'),
        JSON.stringify(p.executables),
      );
      assert.deepEqual(
        d.nodes.map((n) => [n.node, n.mode]),
        [['node-live', 'discover']],
      );
    });

    it('protect set in the console: the agent applies it without a restart and an unlearned binary is refused before exec', async () => {
      const t0 = Date.now();
      const set = await op.req('PUT', '/api/runtime/workloads/mode', {
        cluster: 'live',
        workload: idOf('webapp'),
        mode: 'protect',
      });
      assert.equal(set.status, 200, JSON.stringify(set.body));
      await until(
        'the agent to report webapp in protect mode',
        async () => (await detail('webapp')).nodes.every((n) => n.mode === 'protect') || undefined,
      );
      const applied = Date.now() - t0;
      assert.match(agentErr, /webapp: discover → protect mode \(set in the console\)/);
      const r = await bundle.run(['/bin/sh', '-c', `perl -e 'print "ran\\n"'; echo perl=$?; echo end`], {
        annotations: annotations('webapp'),
      });
      assert.deepEqual([r.code, r.stdout], [0, 'perl=126\nend\n'], `${r.stderr}\n${agentErr.slice(-2000)}`);
      assert.match(r.stderr, /perl: Operation not permitted/);
      const dev = await until('the blocked deviation in the console', async () =>
        (await detail('webapp')).deviations.find((x) => x.containerId === r.cid && x.type === 'exe'),
      );
      assert.deepEqual([dev.value, dev.action, dev.mode], ['/usr/bin/perl', 'blocked', 'protect']);
      // a learned run is unaffected
      const ok = await bundle.run(['/bin/sh', '-c', 'echo start; sleep 0.05; echo end'], {
        annotations: annotations('webapp'),
      });
      assert.deepEqual([ok.code, ok.stdout], [0, 'start\nend\n'], ok.stderr);
      console.log(
        `mode switch: protect set in the console → held by the agent (reported back) in ${applied} ms (heartbeat 1 s)`,
      );
    });

    it('undo from the console: the paused container resumes and the console shows the response undone', async () => {
      const set = await op.req('PUT', '/api/runtime/workloads/mode', {
        cluster: 'live',
        workload: idOf('pauseme'),
        mode: 'monitor',
      });
      assert.equal(set.status, 200);
      await until(
        'the agent to hold pauseme in monitor mode',
        async () => (await detail('pauseme')).nodes.every((n) => n.mode === 'monitor') || undefined,
      );
      const TICKS = '/tmp/bwk-console-ticks';
      const tickFile = join(bundle.rootfs, TICKS);
      rmSync(tickFile, { force: true });
      const running = bundle.run(
        [
          '/bin/sh',
          '-c',
          `perl -e '$|=1; open(my $f, ">>", "${TICKS}") or die; $f->autoflush(1); for (1..40) { print $f "t\\n"; select(undef,undef,undef,0.05) }'; echo done`,
        ],
        { annotations: annotations('pauseme'), timeoutMs: 120_000 },
      );
      const resp = await until('the pause in the console', async () =>
        (await detail('pauseme')).responses.find((x) => x.action === 'pause' && x.state === 'active'),
      );
      const ev = (
        await op.req<{ event: { response: { target: { pid: number }; latencyMs: number } } }>(
          'GET',
          `/api/runtime/events/${resp.id}`,
        )
      ).body.event;
      frozen = freezerOf(ev.response.target.pid);
      assert.ok(isFrozen(frozen), 'the container’s cgroup is frozen');
      const ticks = () => (existsSync(tickFile) ? readFileSync(tickFile, 'utf8').length : 0);
      const n0 = ticks();
      await sleep(700);
      assert.equal(ticks(), n0, 'nothing ran while paused');
      assert.ok(n0 < 80, 'paused before perl was done');

      const t0 = Date.now();
      const u = await op.req<{ command: { id: number } }>('POST', `/api/runtime/events/${resp.id}/undo`);
      assert.equal(u.status, 202, JSON.stringify(u.body));
      await until('the container to run again', async () => (ticks() > n0 ? true : undefined));
      const resumed = Date.now() - t0;
      const carried = (carriedAt.get(u.body.command.id) ?? NaN) - t0;
      const done = await until('the console to show the pause undone', async () => {
        const x = (await detail('pauseme')).responses.find((y) => y.eventId === resp.eventId);
        return x?.state === 'undone' ? x : undefined;
      });
      const shown = Date.now() - t0;
      const r = await running;
      frozen = undefined;
      assert.deepEqual([r.code, r.stdout], [0, 'done\n'], r.stderr);
      assert.equal(readFileSync(tickFile, 'utf8'), 't\n'.repeat(40), 'every tick ran after the resume');
      assert.deepEqual(
        [done.undoneBy?.action, done.undoneBy?.automatic, done.command?.state, done.command?.createdBy],
        ['resume', false, 'done', 'otto'],
      );
      assert.equal(done.command?.resultEvent, done.undoneBy?.eventId);
      // the agent printed the resume it made for the command
      const printed = agentOut
        .split('\n')
        .filter(Boolean)
        .map(
          (l) =>
            JSON.parse(l) as {
              kind: string;
              response?: { action: string; undoes?: string; command?: number };
            },
        )
        .filter((e) => e.kind === 'response' && e.response?.undoes === resp.eventId);
      assert.deepEqual(
        printed.map((e) => [e.response!.action, e.response!.command]),
        [['resume', u.body.command.id]],
      );
      const again = await op.req('POST', `/api/runtime/events/${resp.id}/undo`);
      assert.equal(again.status, 409);
      const audit = (
        await admin.req<{ items: { actor: string; action: string; target: string }[] }>(
          'GET',
          '/api/audit?pageSize=100',
        )
      ).body.items;
      assert.deepEqual(
        audit
          .filter((a) => a.action === 'profile.mode' || a.action === 'response.undo')
          .map((a) => [a.actor, a.action])
          .reverse(),
        [
          ['otto', 'profile.mode'],
          ['otto', 'profile.mode'],
          ['otto', 'response.undo'],
        ],
      );
      console.log(
        `undo: pause ${ev.response.latencyMs.toFixed(1)} ms after the exec; undo asked in the console → carried out by the agent after ${carried} ms, container running again after ${resumed} ms, shown undone in the console after ${shown} ms (heartbeat 1 s)`,
      );
    });

    it('quarantine and capture undone from the console: the open connection delivers again, the capture stops with its packets', async () => {
      // the container's network: its own namespace with a veth to the host (NET.2 ↔ NET.1)
      execFileSync('ip', ['netns', 'add', NS]);
      netnsMade = true;
      execFileSync('ip', ['link', 'add', HOST_IF, 'type', 'veth', 'peer', 'name', NS_IF]);
      execFileSync('ip', ['link', 'set', NS_IF, 'netns', NS]);
      execFileSync('ip', ['addr', 'add', `${NET}.1/30`, 'dev', HOST_IF]);
      execFileSync('ip', ['link', 'set', HOST_IF, 'up']);
      execFileSync('ip', ['-n', NS, 'addr', 'add', `${NET}.2/30`, 'dev', NS_IF]);
      execFileSync('ip', ['-n', NS, 'link', 'set', NS_IF, 'up']);
      execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up']);
      let bytes = 0;
      tcp = createServer((sock) => {
        sock.on('data', (d: Buffer) => (bytes += d.length));
        sock.on('error', () => {});
      });
      await new Promise<void>((r) => tcp!.listen(0, `${NET}.1`, r));
      const port = (tcp.address() as AddressInfo).port;
      const netns = `/var/run/netns/${NS}`;
      const client = (extra: string) =>
        `perl -MIO::Socket::INET -e '$|=1; my $s = IO::Socket::INET->new(PeerAddr => "${NET}.1:${port}") or die "connect: $!"; $s->autoflush(1); for my $i (1..120) { print $s "tick\\n"; ${extra} select(undef,undef,undef,0.05) }'; echo client-done`;
      await until('the console to list isolate with what it learned', async () => {
        const r = await bundle.run(['/bin/sh', '-c', `${client('')}; sleep 0.3`], {
          annotations: annotations('isolate'),
          netns,
        });
        assert.equal(r.code, 0, r.stderr);
        const end = Date.now() + 5000;
        while (Date.now() < end) {
          const w = (
            await op.req<{ items: Workload[] }>('GET', '/api/runtime/workloads?cluster=live')
          ).body.items.find((x) => x.workload === idOf('isolate'));
          if (w && w.counts.executables >= 2) return w;
          await sleep(200);
        }
        return undefined;
      });
      assert.equal(
        (
          await op.req('PUT', '/api/runtime/workloads/mode', {
            cluster: 'live',
            workload: idOf('isolate'),
            mode: 'monitor',
          })
        ).status,
        200,
      );
      await until(
        'the agent to hold isolate in monitor mode',
        async () => (await detail('isolate')).nodes.every((n) => n.mode === 'monitor') || undefined,
      );
      bytes = 0;
      const running = bundle.run(['/bin/sh', '-c', client('system("/usr/bin/id >/dev/null") if $i == 10;')], {
        annotations: annotations('isolate'),
        netns,
        timeoutMs: 120_000,
      });
      const active = await until('the quarantine and the capture in force in the console', async () => {
        const rs = (await detail('isolate')).responses.filter((x) => x.state === 'active');
        const q = rs.find((x) => x.action === 'quarantine');
        const c = rs.find((x) => x.action === 'capture');
        return q && c ? { q, c } : undefined;
      });
      const atQuarantine = bytes;
      await sleep(1500);
      const during = bytes - atQuarantine;
      assert.ok(during <= 10, `${during} bytes arrived while quarantined`);

      const t0 = Date.now();
      assert.equal((await op.req('POST', `/api/runtime/events/${active.q.id}/undo`)).status, 202);
      await until('the connection to deliver again', async () =>
        bytes > atQuarantine + during ? true : undefined,
      );
      const released = Date.now() - t0;
      await sleep(500);
      const t1 = Date.now();
      assert.equal((await op.req('POST', `/api/runtime/events/${active.c.id}/undo`)).status, 202);
      const stopped = await until('the capture undone in the console', async () => {
        const x = (await detail('isolate')).responses.find((y) => y.eventId === active.c.eventId);
        return x?.state === 'undone' ? x : undefined;
      });
      const captureStopped = Date.now() - t1;
      const r = await running;
      assert.deepEqual([r.code, r.stdout], [0, 'client-done\n'], r.stderr);
      const end = Date.now() + 10_000;
      while (Date.now() < end && bytes < 120 * 5) await sleep(50);
      assert.equal(bytes, 120 * 5, 'everything delivered after the release');
      const q = (await detail('isolate')).responses.find((y) => y.eventId === active.q.eventId)!;
      assert.deepEqual([q.state, q.undoneBy?.action, q.command?.state], ['undone', 'release', 'done']);
      assert.deepEqual(
        [stopped.undoneBy?.action, stopped.undoneBy?.automatic, stopped.command?.state],
        ['capture-end', false, 'done'],
      );
      // the capture-end record lists the pcap files: the ticks sent after the release are in them
      const endRow = (await detail('isolate')).responses.find(
        (y) => y.eventId === stopped.undoneBy!.eventId,
      )!;
      const cap = (
        await op.req<{ event: { response: { capture?: { dir: string; files?: string[] } } } }>(
          'GET',
          `/api/runtime/events/${endRow.id}`,
        )
      ).body.event.response.capture!;
      captureDirs.push(cap.dir);
      assert.ok(cap.files?.length, JSON.stringify(cap));
      let text = '';
      for (const f of cap.files!)
        text += execFileSync('tcpdump', ['-r', f, '-A', '-n'], {
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'ignore'],
        });
      assert.match(text, /tick/);
      // the host's own network namespace was never touched
      assert.doesNotMatch(execFileSync('iptables', ['-S'], { encoding: 'utf8' }), /BULWARK-QUARANTINE/);
      console.log(
        `quarantine/capture: ${during} bytes during 1.5 s of quarantine; released from the console → delivering again after ${released} ms; capture stopped from the console → shown undone after ${captureStopped} ms, ${cap.files!.length} pcap file(s) with the packets`,
      );
    });

    it('the agent stops cleanly', async () => {
      agent!.kill('SIGTERM');
      const code = await new Promise<number | null>((res) => agent!.once('exit', (c) => res(c)));
      assert.equal(code, 0, agentErr.slice(-2000));
    });
  },
);
