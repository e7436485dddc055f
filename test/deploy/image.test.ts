/**
 * Bulwark's own OCI image (scripts/build-image.sh, #15): built with mmdebstrap + umoci from Debian
 * packages, cached under .cache/image and rebuilt only when an input changes (a rebuild with
 * the Debian base cached takes ~30 s here, a cold one ~50 s; see docs/deploy.md). Checked for
 * real: its config (non-root user, entrypoint, labels), its entrypoint run by runc as the image's
 * user 10001 with a read-only root filesystem (`--version`, then the console answering /healthz),
 * the agent's eBPF sensor attached from inside a container holding only the capabilities the Helm
 * chart grants (and failing without CAP_BPF), Bulwark's own scan of the image: 0 CRITICAL, and the
 * image pushed to a local registry (Debian's docker-registry, TLS), signed with `bulwark sign` and
 * verified with `bulwark verify`.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, repoRoot, startRegistry, type FixtureImage } from '../fixtures/index.js';
import { FALCO_DATA } from '../helpers/shared.js';
import { advisoryDbCopy } from '../server/data.js';
import { bulwarkImage, ociBlob, runContainer, unpacked, type BuiltImage, type OciSpec } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'bulwark-image-'));
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

let img: BuiltImage;
let rootfs: string;
let spec: OciSpec;

/** A container of the image: the spec umoci derived from the image config, adjusted. */
function container(adjust: (s: OciSpec) => void): { id: string; bundle: string } {
  const s = structuredClone(spec);
  s.process.terminal = false;
  s.root = { path: rootfs, readonly: true };
  // as the chart mounts emptyDirs on a read-only root filesystem
  for (const d of ['/tmp', '/var/lib/bulwark', '/var/cache/bulwark'])
    s.mounts.push({
      destination: d,
      type: 'tmpfs',
      source: 'tmpfs',
      options: ['nosuid', 'nodev', `uid=${s.process.user.uid}`, `gid=${s.process.user.gid}`, 'mode=0750'],
    });
  adjust(s);
  const id = `bulwark-image-${randomBytes(6).toString('hex')}`;
  const bundle = join(tmp, id);
  mkdirSync(bundle);
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(s));
  started.push(id);
  return { id, bundle };
}

const hostNetwork = (s: OciSpec) => {
  s.linux.namespaces = s.linux.namespaces.filter((n) => n.type !== 'network');
};

describe('Bulwark OCI image (scripts/build-image.sh)', () => {
  before(async () => {
    img = await bulwarkImage();
    ({ rootfs, spec } = unpacked(img));
  });

  it('config: entrypoint bulwark, non-root user 10001, workdir, OCI labels, bounded size', (t) => {
    const manifest = ociBlob<{ config: { digest: string }; layers: { size: number }[] }>(
      img.ociDir,
      img.digest,
    );
    const cfg = ociBlob<{
      config: {
        User: string;
        Entrypoint: string[];
        Cmd: string[];
        WorkingDir: string;
        Labels: Record<string, string>;
      };
      history: { created_by: string }[];
    }>(img.ociDir, manifest.config.digest);
    assert.equal(cfg.config.User, '10001:10001');
    assert.deepEqual(cfg.config.Entrypoint, ['/usr/local/bin/bulwark']);
    assert.deepEqual(cfg.config.Cmd, ['server', '--listen', '0.0.0.0:8080']);
    assert.equal(cfg.config.WorkingDir, '/opt/bulwark');
    const L = 'org.opencontainers.image';
    assert.equal(cfg.config.Labels[`${L}.title`], 'Bulwark');
    assert.equal(cfg.config.Labels[`${L}.version`], img.tag);
    assert.equal(cfg.config.Labels[`${L}.licenses`], 'Apache-2.0');
    assert.match(cfg.config.Labels[`${L}.revision`] ?? '', /^[0-9a-f]{40}$/);
    assert.equal(manifest.layers.length, 4);
    const size = manifest.layers.reduce((a, l) => a + l.size, 0);
    t.diagnostic(
      `image ${img.digest}: ${(size / 1048576).toFixed(1)} MiB compressed in 4 layers; build script ${img.seconds.toFixed(1)} s`,
    );
    assert.ok(size < 160 * 1048576, `image too large: ${size} bytes`);
    // the user exists in the image and owns its writable directories only
    assert.match(readFileSync(join(rootfs, 'etc', 'passwd'), 'utf8'), /^bulwark:x:10001:10001:/m);
    // Node.js 20 (copied from the build machine, with its licence and where it came from)
    assert.ok(existsSync(join(rootfs, 'usr', 'local', 'share', 'doc', 'nodejs', 'LICENSE')));
    assert.match(
      readFileSync(join(rootfs, 'usr', 'local', 'share', 'doc', 'nodejs', 'ORIGIN'), 'utf8'),
      /Node\.js v2\d\./,
    );
    // production dependencies only
    assert.ok(existsSync(join(rootfs, 'opt', 'bulwark', 'node_modules', 'fastify')));
    assert.ok(!existsSync(join(rootfs, 'opt', 'bulwark', 'node_modules', 'typescript')));
  });

  it('runc runs the entrypoint as uid 10001 on a read-only root: --version', async () => {
    assert.equal(spec.process.user.uid, 10001);
    const c = container((s) => {
      s.process.args = [...s.process.args.slice(0, 1), '--version'];
    });
    const r = await runContainer(c);
    assert.equal(r.code, 0, r.stderr);
    const version = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
    assert.equal(r.stdout.trim(), version);
  });

  it('the console starts in the container as uid 10001 (read-only root, tmpfs data) and answers /healthz', async () => {
    const port = await freePort();
    const c = container((s) => {
      hostNetwork(s);
      s.process.args = [s.process.args[0]!, 'server', '--listen', `127.0.0.1:${port}`];
    });
    const p: ChildProcess = spawn('runc', ['run', '--bundle', c.bundle, c.id], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let log = '';
    p.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    p.stdout!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      let body = '';
      for (let i = 0; i < 120 && !body; i++) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/healthz`);
          if (res.ok) body = await res.text();
        } catch {
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      assert.ok(body, `no /healthz answer; log:\n${log}`);
      const ps = execFileSync('runc', ['ps', '--format', 'json', c.id], { encoding: 'utf8' });
      const pids = JSON.parse(ps) as number[];
      const uid = readFileSync(`/proc/${pids[0]}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1];
      assert.equal(uid, '10001');
    } finally {
      execFileSync('runc', ['kill', c.id, 'SIGTERM']);
      await new Promise((r) => p.once('exit', r));
    }
  });

  const sensorInImage = () => existsSync(join(rootfs, 'opt', 'bulwark', 'dist', 'native', 'bulwark-sensor'));

  /** The agent as the chart runs it: uid 0, host PID namespace, ALL dropped + these capabilities. */
  function agent(caps: string[], seconds: number) {
    return container((s) => {
      s.process.user = { uid: 0, gid: 0 };
      const c = caps.map((x) => `CAP_${x}`);
      s.process.capabilities = { bounding: c, effective: c, permitted: c, inheritable: [], ambient: [] };
      s.process.noNewPrivileges = true; // allowPrivilegeEscalation: false
      s.linux.namespaces = s.linux.namespaces.filter((n) => n.type !== 'pid'); // hostPID
      s.mounts = s.mounts.map((m) =>
        m.destination.startsWith('/var/') || m.destination === '/tmp'
          ? { ...m, options: (m.options ?? []).filter((o) => !/^[ug]id=/.test(o)) }
          : m,
      );
      s.mounts.push({
        destination: '/etc/falco',
        type: 'bind',
        source: FALCO_DATA,
        options: ['rbind', 'ro'],
      });
      s.process.args = [
        s.process.args[0]!,
        'agent',
        '--rules',
        '/etc/falco',
        '--duration',
        String(seconds),
        '--buffer-dir',
        '/var/lib/bulwark/agent-buffer',
      ];
    });
  }

  it('the agent’s sensor attaches inside a container with only CAP_BPF, CAP_PERFMON, CAP_SYS_PTRACE and hostPID', async (t) => {
    if (!sensorInImage() || !existsSync('/sys/kernel/btf/vmlinux')) {
      t.skip('the image has no eBPF sensor (scripts/build-sensor.sh could not build it) or no kernel BTF');
      return;
    }
    const marker = `/tmp/bulwark-image-test-${randomBytes(4).toString('hex')}`;
    const run = runContainer(agent(['BPF', 'PERFMON', 'SYS_PTRACE'], 5));
    // a host process the upstream rule "Read sensitive file untrusted" fires on
    await new Promise((r) => setTimeout(r, 2500));
    spawn('cat', ['/etc/shadow', marker], { stdio: 'ignore' });
    const r = await run;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /sensor attached/);
    const alerts = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { rule?: string; output_fields?: Record<string, unknown> })
      .filter(
        (a) =>
          a.rule === 'Read sensitive file untrusted' &&
          String(a.output_fields?.['proc.cmdline']).includes(marker),
      );
    assert.equal(alerts.length, 1, r.stdout.slice(-2000));
  });

  it('without CAP_BPF (or CAP_PERFMON) the sensor cannot load: the chart’s capabilities are needed', async (t) => {
    if (!sensorInImage() || !existsSync('/sys/kernel/btf/vmlinux')) {
      t.skip('no eBPF sensor in the image or no kernel BTF');
      return;
    }
    for (const caps of [
      ['PERFMON', 'SYS_PTRACE'],
      ['BPF', 'SYS_PTRACE'],
    ]) {
      const r = await runContainer(agent(caps, 2));
      assert.notEqual(r.code, 0, `agent with ${caps.join(',')} should fail`);
      assert.match(r.stderr, /load\/attach failed: Operation not permitted/);
    }
  });

  it('pushed to a registry, signed by `bulwark sign` and verified by `bulwark verify` (cosign layout)', async () => {
    const reg = await startRegistry();
    try {
      // push() reads only ociDir and tag of the fixture type
      await reg.push({ ociDir: img.ociDir, tag: img.tag } as FixtureImage, 'bulwark/bulwark', img.tag);
      const env = { ...process.env, COSIGN_PASSWORD: 'image test' };
      const cli = (args: string[]) =>
        execFileSync(process.execPath, [join(repoRoot, 'bin', 'bulwark'), ...args], {
          env,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      const prefix = join(tmp, 'cosign');
      cli(['generate-key-pair', '--output-key-prefix', prefix]);
      const ref = `${reg.host}/bulwark/bulwark:${img.tag}`;
      cli(['sign', ref, '--key', `${prefix}.key`, '--ca-cert', reg.caCertFile]);
      const out = cli(['verify', ref, '--key', `${prefix}.pub`, '--ca-cert', reg.caCertFile]);
      const payloads = JSON.parse(out) as { critical: { image: { 'docker-manifest-digest': string } } }[];
      // skopeo keeps the OCI manifest as built: the signature names the digest of the layout
      assert.deepEqual(
        payloads.map((p) => p.critical.image['docker-manifest-digest']),
        [img.digest],
      );
    } finally {
      await reg.stop();
    }
  });

  it('Bulwark’s own scan of the image: 0 CRITICAL (OSV Debian, npm, PyPI, Go advisories of ../shared)', async (t) => {
    const db = await advisoryDbCopy(tmp);
    const out = join(tmp, 'scan.json');
    execFileSync(
      process.execPath,
      [
        join(repoRoot, 'bin', 'bulwark'),
        'scan',
        'image',
        `oci:${img.ociDir}:${img.tag}`,
        '--db',
        db,
        '--db-max-age',
        '0',
        '--list-all-pkgs',
        '-f',
        'json',
        '-o',
        out,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const r = JSON.parse(readFileSync(out, 'utf8')) as {
      results: {
        findings: { kind: string; severity: string; id: string }[];
        packages?: { purl?: string }[];
      }[];
    };
    const counts: Record<string, number> = {};
    for (const f of r.results.flatMap((x) => x.findings))
      counts[`${f.kind}:${f.severity}`] = (counts[`${f.kind}:${f.severity}`] ?? 0) + 1;
    const pkgs = r.results.flatMap((x) => x.packages ?? []);
    const deb = pkgs.filter((p) => p.purl?.startsWith('pkg:deb/')).length;
    const npm = pkgs.filter((p) => p.purl?.startsWith('pkg:npm/')).length;
    t.diagnostic(`findings ${JSON.stringify(counts)}; packages: ${deb} deb, ${npm} npm`);
    // 0 because nothing matched, not because nothing was cataloged
    assert.ok(deb > 50 && npm > 150, `catalog too small: ${deb} deb, ${npm} npm`);
    const critical = r.results.flatMap((x) => x.findings).filter((f) => f.severity === 'CRITICAL');
    assert.deepEqual(
      critical.map((f) => f.id),
      [],
    );
  });
});
