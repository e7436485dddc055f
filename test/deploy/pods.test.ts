/**
 * The chart's pods run (#15). There is no Kubernetes here, so a small "kubelet" turns the
 * rendered Deployment and DaemonSet pod specs into OCI runtime specs for runc over Bulwark's own
 * image, as a kubelet and containerd would: the image's entrypoint with the container's args
 * ($(VAR) expanded), env from literal values, Secrets and the downward API, runAsUser/runAsGroup
 * (runAsNonRoot enforced), capabilities (drop ALL + add), allowPrivilegeEscalation as
 * no_new_privs, readOnlyRootFilesystem, hostPID, and volumes (emptyDir → a 0777 directory owned
 * by fsGroup, configMap and secret → read-only files, hostPath → bind mount). Not emulated: networking (every pod gets the
 * host's network namespace: no CNI), Services and DNS (the agent is pointed at 127.0.0.1),
 * seccomp profiles, resource limits and emptyDir size limits, probes (the test probes /healthz itself).
 *
 * Then, end to end: the console pod starts as uid 10001 on its read-only root with the admin
 * password and secret key from Secrets, answers its probe path; an API token made through its API
 * goes into the agent's Secret; the agent pod (uid 0, only the chart's capabilities, hostPID)
 * attaches the sensor and ships the alert for a `cat /etc/shadow` on the node; the console then
 * lists it with the chart's cluster name and the node name from the downward API.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { freePort } from '../fixtures/index.js';
import { TestNats } from '../helpers/nats.js';
import { FALCO_DATA } from '../helpers/shared.js';
import {
  bulwarkImage,
  renderChart,
  runContainer,
  unpacked,
  type BuiltImage,
  type OciSpec,
} from './helpers.js';

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } };
}
interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  fsGroup?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
}
interface Container {
  name: string;
  args: string[];
  env?: EnvVar[];
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface Volume {
  name: string;
  emptyDir?: { sizeLimit?: string; medium?: string };
  configMap?: { name: string };
  secret?: { secretName: string };
  hostPath?: { path: string; type?: string };
}
interface PodSpec {
  containers: Container[];
  volumes?: Volume[];
  securityContext?: SecurityContext;
  hostPID?: boolean;
}
interface Cluster {
  secrets: Record<string, Record<string, string>>;
  /** ConfigMap name → a host directory holding its keys as files */
  configMaps: Record<string, string>;
  nodeName: string;
}

const RUNC_DEFAULT_CAPS = ['CAP_AUDIT_WRITE', 'CAP_KILL', 'CAP_NET_BIND_SERVICE'];
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-pods-'));
const started: string[] = [];
after(() => {
  for (const id of started) {
    try {
      execFileSync('runc', ['delete', '-f', id], { stdio: 'ignore' });
    } catch {
      /* gone already */
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

/** The pod's first container as an OCI bundle over the image (what kubelet + containerd do). */
function podBundle(
  image: OciSpec,
  rootfs: string,
  pod: PodSpec,
  cluster: Cluster,
): { id: string; bundle: string } {
  const c = pod.containers[0]!;
  const psc = pod.securityContext ?? {};
  const sc = c.securityContext ?? {};
  const s = structuredClone(image);
  s.process.terminal = false;
  // env: the image's, then the container's (kubelet fails the container on a missing Secret key)
  const env = new Map(s.process.env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  for (const e of c.env ?? []) {
    let v = e.value;
    const ref = e.valueFrom?.secretKeyRef;
    if (ref) {
      v = cluster.secrets[ref.name]?.[ref.key];
      if (v === undefined)
        throw new Error(`CreateContainerConfigError: secret ${ref.name}/${ref.key} not found`);
    }
    if (e.valueFrom?.fieldRef?.fieldPath === 'spec.nodeName') v = cluster.nodeName;
    env.set(e.name, v ?? '');
  }
  s.process.env = [...env].map(([k, v]) => `${k}=${v}`);
  // args replace the image's Cmd; the entrypoint stays; $(VAR) from the container's env
  const expand = (a: string) =>
    a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env.get(n) ?? m);
  s.process.args = [s.process.args[0]!, ...c.args.map(expand)];
  const uid = sc.runAsUser ?? psc.runAsUser ?? s.process.user.uid;
  const gid = sc.runAsGroup ?? psc.runAsGroup ?? s.process.user.gid;
  if ((sc.runAsNonRoot ?? psc.runAsNonRoot) && uid === 0)
    throw new Error('CreateContainerConfigError: runAsNonRoot and the container runs as root');
  s.process.user = { uid, gid };
  assert.notEqual(sc.privileged, true, 'privileged containers are not emulated');
  const caps = [
    ...(sc.capabilities?.drop?.includes('ALL') ? [] : RUNC_DEFAULT_CAPS),
    ...(sc.capabilities?.add ?? []).map((x) => `CAP_${x}`),
  ];
  s.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: [] };
  s.process.noNewPrivileges = sc.allowPrivilegeEscalation === false;
  s.root = { path: rootfs, readonly: sc.readOnlyRootFilesystem === true };
  s.linux.namespaces = s.linux.namespaces.filter(
    (n) => n.type !== 'network' && !(pod.hostPID && n.type === 'pid'),
  );
  const id = `bulwark-pod-${c.name}-${randomBytes(5).toString('hex')}`;
  const bundle = join(tmp, id);
  mkdirSync(bundle);
  for (const m of c.volumeMounts ?? []) {
    const v = (pod.volumes ?? []).find((x) => x.name === m.name);
    assert.ok(v, `volume ${m.name}`);
    const ro = m.readOnly ? ['ro'] : [];
    if (v.emptyDir) {
      // kubelet makes an emptyDir a 0777 directory (group fsGroup, setgid, when the pod sets one)
      // and bind-mounts it; runc would reset a tmpfs to the image directory's mode
      const dir = join(bundle, `emptydir-${v.name}`);
      mkdirSync(dir);
      if (psc.fsGroup !== undefined) {
        chownSync(dir, 0, psc.fsGroup);
        chmodSync(dir, 0o2777);
      } else chmodSync(dir, 0o777);
      s.mounts.push({ destination: m.mountPath, type: 'bind', source: dir, options: ['rbind', ...ro] });
    } else if (v.configMap || v.secret) {
      let dir: string;
      if (v.configMap) {
        const d = cluster.configMaps[v.configMap.name];
        if (!d) throw new Error(`configmap ${v.configMap.name} not found`);
        dir = d;
      } else {
        const data = cluster.secrets[v.secret!.secretName];
        if (!data) throw new Error(`secret ${v.secret!.secretName} not found`);
        dir = join(bundle, `secret-${v.name}`);
        mkdirSync(dir);
        // kubelet: the files in defaultMode, owned by root and, with an fsGroup, by that group
        const mode = (v.secret as { defaultMode?: number }).defaultMode ?? 0o644;
        for (const [k, val] of Object.entries(data)) {
          writeFileSync(join(dir, k), val, { mode });
          if (psc.fsGroup !== undefined) chownSync(join(dir, k), 0, psc.fsGroup);
          chmodSync(join(dir, k), mode);
        }
        if (psc.fsGroup !== undefined) chownSync(dir, 0, psc.fsGroup);
      }
      s.mounts.push({ destination: m.mountPath, type: 'bind', source: dir, options: ['rbind', 'ro'] });
    } else if (v.hostPath) {
      if (v.hostPath.type === 'Directory' && !existsSync(v.hostPath.path))
        throw new Error(`hostPath ${v.hostPath.path} is not a directory on the node`);
      s.mounts.push({
        destination: m.mountPath,
        type: 'bind',
        source: v.hostPath.path,
        options: ['rbind', ...ro],
      });
    } else throw new Error(`volume ${m.name}: type not emulated`);
  }
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(s));
  started.push(id);
  return { id, bundle };
}

function podSpec(docs: Record<string, unknown>[], kind: string, name: string): PodSpec {
  const d = docs.find((x) => x.kind === kind && (x.metadata as { name: string }).name === name);
  assert.ok(d, `${kind}/${name} rendered`);
  return (d.spec as { template: { spec: PodSpec } }).template.spec;
}

describe('the chart’s pods under runc (a minimal kubelet; not Kubernetes)', () => {
  let img: BuiltImage;
  let rootfs: string;
  let spec: OciSpec;
  before(async () => {
    img = await bulwarkImage();
    ({ rootfs, spec } = unpacked(img));
  });

  it('console pod (uid 10001, read-only root, Secrets) + agent pod (chart capabilities, hostPID): an alert arrives with its cluster and node', (t) =>
    scenario(t, { rootfs, spec }, 'pods-test'));

  it('with nats.url: the agent pod publishes to JetStream, the console pod consumes (NATS auth from a Secret)', async (t) => {
    const nats = new TestNats();
    await nats.start();
    try {
      await scenario(t, { rootfs, spec }, 'pods-nats', nats);
    } finally {
      await nats.kill();
    }
  });
});

/** The console pod and the agent pod from one render; with `nats` both go through JetStream. */
async function scenario(
  t: TestContext,
  img: { rootfs: string; spec: OciSpec },
  clusterName: string,
  nats?: TestNats,
) {
  const { rootfs, spec } = img;
  if (
    !existsSync(join(rootfs, 'opt', 'bulwark', 'dist', 'native', 'bulwark-sensor')) ||
    !existsSync('/sys/kernel/btf/vmlinux')
  ) {
    t.skip('the image has no eBPF sensor or the kernel no BTF');
    return;
  }
  const port = await freePort();
  // runc keeps its container state in /run/runc: the agent reads it as it reads containerd's on a node
  const values = join(tmp, `values-${clusterName}.yaml`);
  writeFileSync(
    values,
    [
      'secretKey: { existingSecret: bulwark-secret-key }',
      `server: { port: ${port}, service: { port: ${port} }, adminPassword: { existingSecret: bulwark-admin } }`,
      ...(nats ? [`nats: { url: '${nats.url}', existingSecret: bulwark-nats }`] : []),
      `agent:`,
      `  cluster: ${clusterName}`,
      `  serverURL: http://127.0.0.1:${port}`,
      `  rulesConfigMap: falco-rules`,
      `  runtimePaths: [/run/runc]`,
      `  extraArgs: [--duration, "8", --heartbeat, "2"]`,
    ].join('\n'),
  );
  const docs = parseAllDocuments(renderChart(['--namespace', 'bulwark', '-f', values]))
    .map((d) => d.toJS() as Record<string, unknown> | null)
    .filter((d): d is Record<string, unknown> => d !== null);
  const password = randomBytes(12).toString('hex');
  const cluster: Cluster = {
    nodeName: 'node-a',
    configMaps: { 'falco-rules': FALCO_DATA },
    secrets: {
      'bulwark-secret-key': { 'secret-key': randomBytes(32).toString('base64') },
      'bulwark-admin': { password },
      ...(nats ? { 'bulwark-nats': { auth: nats.token } } : {}),
    },
  };

  // the console: its Deployment's pod
  const serverPod = podSpec(docs, 'Deployment', 'bulwark-server');
  const server = podBundle(spec, rootfs, serverPod, cluster);
  const sp: ChildProcess = spawn('runc', ['run', '--bundle', server.bundle, server.id], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let serverLog = '';
  sp.stdout!.on('data', (d: Buffer) => (serverLog += d.toString()));
  sp.stderr!.on('data', (d: Buffer) => (serverLog += d.toString()));
  const base = `http://127.0.0.1:${port}`;
  try {
    let healthy = false;
    for (let i = 0; i < 120 && !healthy; i++) {
      healthy = await fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
      if (!healthy) await new Promise((r) => setTimeout(r, 250));
    }
    assert.ok(healthy, `the console pod did not answer /healthz:\n${serverLog}`);
    const pids = JSON.parse(
      execFileSync('runc', ['ps', '--format', 'json', server.id], { encoding: 'utf8' }),
    ) as number[];
    assert.match(
      execFileSync('ps', ['-o', 'uid=', '-p', String(pids[0])], { encoding: 'utf8' }),
      /^\s*10001\s*$/,
    );

    // an API token for the agents, made as an operator would (admin login from the Secret)
    const login = await fetch(`${base}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password }),
    });
    assert.equal(login.status, 200, await login.clone().text());
    const csrf = ((await login.json()) as { csrfToken: string }).csrfToken;
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const tok = await fetch(`${base}/api/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
      body: JSON.stringify({ name: 'agents', role: 'operator' }),
    });
    assert.equal(tok.status, 201, await tok.clone().text());
    const token = ((await tok.json()) as { token: string }).token;
    cluster.secrets['bulwark-agent-token'] = { token };

    // the agent: its DaemonSet's pod
    const agentPod = podSpec(docs, 'DaemonSet', 'bulwark-agent');
    assert.equal(agentPod.hostPID, true);
    const agentArgs = agentPod.containers[0]!.args.join(' ');
    if (nats) assert.match(agentArgs, /--nats nats:\/\/127\.0\.0\.1:\d+/);
    else assert.match(agentArgs, /--server http:\/\/127\.0\.0\.1:\d+/);
    const agent = podBundle(spec, rootfs, agentPod, cluster);
    const marker = `/tmp/bulwark-pods-test-${randomBytes(4).toString('hex')}`;
    const run = runContainer(agent);
    await new Promise((r) => setTimeout(r, 3000));
    spawn('cat', ['/etc/shadow', marker], { stdio: 'ignore' });
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /sensor attached/);

    const t0 = Date.now();
    const q = new URLSearchParams({
      rule: 'Read sensitive file untrusted',
      cluster: clusterName,
      pageSize: '200',
    });
    let mine: Record<string, unknown>[] = [];
    for (let i = 0; i < 240 && !mine.length; i++) {
      const ev = await fetch(`${base}/api/runtime/events?${q}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(ev.status, 200);
      const items = ((await ev.json()) as { items: Record<string, unknown>[] }).items;
      mine = items.filter((e) => JSON.stringify(e).includes(marker));
      if (!mine.length) await new Promise((res) => setTimeout(res, 250));
      else
        t.diagnostic(
          `${clusterName}: the alert was on the console ${((Date.now() - t0) / 1000).toFixed(1)} s after the agent stopped`,
        );
    }
    assert.equal(
      mine.length,
      1,
      `alerts on the console: ${mine.length}\nagent stderr:\n${r.stderr.slice(-2000)}`,
    );
    assert.equal(mine[0]!.cluster, clusterName);
    assert.equal(mine[0]!.node, 'node-a');
  } finally {
    try {
      execFileSync('runc', ['kill', server.id, 'SIGTERM']);
    } catch {
      /* exited already */
    }
    await new Promise((res) => (sp.exitCode !== null ? res(null) : sp.once('exit', res)));
  }
}
