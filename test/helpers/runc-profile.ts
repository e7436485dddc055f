/**
 * Real runc containers for the profile tests (#10), as test/helpers/runc.ts makes them (the
 * Debian fixture image's rootfs under an overlay: lower = the unpacked image, upper/work in a temp
 * dir, mounted in the host's mount namespace as containerd does), plus what those tests need: the
 * container's stdout and exit code, a seccomp profile in the spec, and the container name and
 * image digest annotations a container manager writes (so the agent sees a named workload).
 * `close()` deletes every container it started, unmounts and removes the temp dir.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianImage } from '../fixtures/index.js';

interface Spec {
  annotations?: Record<string, string>;
  process: { terminal: boolean; args: string[] };
  root: { path: string; readonly: boolean };
  linux: { namespaces: { type: string }[]; seccomp?: unknown };
}

export interface RunResult {
  /** container.id (12 hex digits) */
  cid: string;
  stdout: string;
  stderr: string;
  code: number | null;
}

export class ProfileBundle {
  private readonly tmp = mkdtempSync(join(tmpdir(), 'bulwark-profile-runc-'));
  private readonly bundle = join(this.tmp, 'bundle');
  readonly rootfs = join(this.bundle, 'rootfs');
  private mounted = false;
  private specJson = '';
  private readonly ids: string[] = [];
  /** the unpacked image (the overlay's lower layer) */
  lower = '';

  async open(): Promise<void> {
    const img = await debianImage();
    this.lower = img.rootfs;
    for (const d of ['upper', 'work']) mkdirSync(join(this.tmp, d));
    mkdirSync(this.rootfs, { recursive: true });
    execFileSync('mount', [
      '-t',
      'overlay',
      'overlay',
      '-o',
      `lowerdir=${img.rootfs},upperdir=${join(this.tmp, 'upper')},workdir=${join(this.tmp, 'work')}`,
      this.rootfs,
    ]);
    this.mounted = true;
    execFileSync('runc', ['spec'], { cwd: this.bundle });
    this.specJson = readFileSync(join(this.bundle, 'config.json'), 'utf8');
  }

  get upper(): string {
    return join(this.tmp, 'upper');
  }

  /**
   * Runs a container to its end; the host network namespace (loopback reachable), or the named
   * network namespace at `netns` (a path such as /var/run/netns/NAME).
   */
  async run(
    args: string[],
    opts: {
      annotations?: Record<string, string>;
      seccomp?: unknown;
      timeoutMs?: number;
      netns?: string;
    } = {},
  ): Promise<RunResult> {
    const cfg = JSON.parse(this.specJson) as Spec;
    cfg.process.terminal = false;
    cfg.process.args = args;
    cfg.root = { path: 'rootfs', readonly: false };
    cfg.linux.namespaces = cfg.linux.namespaces.filter((n) => n.type !== 'network');
    if (opts.netns) cfg.linux.namespaces.push({ type: 'network', path: opts.netns } as { type: string });
    if (opts.annotations) cfg.annotations = opts.annotations;
    if (opts.seccomp) cfg.linux.seccomp = opts.seccomp;
    const id = randomBytes(32).toString('hex');
    const dir = join(this.tmp, `b-${id.slice(0, 12)}`);
    // each container its own bundle directory (config.json), all on the same overlay root
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ ...cfg, root: { path: this.rootfs, readonly: false } }),
    );
    this.ids.push(id);
    return new Promise<RunResult>((resolve, reject) => {
      const c = spawn('runc', ['run', '--bundle', dir, id], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      c.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const t = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
      c.once('error', reject);
      c.once('close', (code) => {
        clearTimeout(t);
        rmSync(dir, { recursive: true, force: true });
        resolve({ cid: id.slice(0, 12), stdout, stderr, code });
      });
    });
  }

  close(): void {
    for (const id of this.ids) {
      try {
        execFileSync('runc', ['delete', '-f', id], { stdio: 'ignore' });
      } catch {
        /* already gone (runc run removes it on exit) */
      }
    }
    if (this.mounted) {
      try {
        execFileSync('umount', [this.rootfs]);
      } catch {
        execFileSync('umount', ['-l', this.rootfs]);
      }
    }
    this.mounted = false;
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
