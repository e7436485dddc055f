/**
 * Real containers for live runtime tests: runc (Debian) runs the Debian fixture image's rootfs
 * through an overlay mount (lower = the unpacked image, upper/work in a temp dir), so files a
 * container writes land in the upper layer as with containerd or CRI-O. `close()` deletes every
 * container it started, unmounts and removes the temp dir; call it from `after` so that a failing
 * test leaves no mounts or containers behind.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { debianImage } from '../fixtures/index.js';

interface Spec {
  annotations?: Record<string, string>;
  process: { terminal: boolean; args: string[]; capabilities?: Record<string, string[]> };
  root: { path: string; readonly: boolean };
  linux: { namespaces: { type: string }[] };
}

export class RuncBundle {
  private readonly tmp = mkdtempSync(join(tmpdir(), 'bulwark-runc-'));
  private readonly rootfs = join(this.tmp, 'bundle', 'rootfs');
  private mounted = false;
  private specJson = '';
  private readonly ids: string[] = [];

  /** Mounts the overlay over the fixture image and writes runc's default spec. */
  async open(): Promise<void> {
    const img = await debianImage();
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
    execFileSync('runc', ['spec'], { cwd: join(this.tmp, 'bundle') });
    this.specJson = readFileSync(join(this.tmp, 'bundle', 'config.json'), 'utf8');
  }

  /** The overlay's upper directory (what containers wrote). */
  get upper(): string {
    return join(this.tmp, 'upper');
  }

  /**
   * Runs a container to its end with these args (no terminal; the host's network namespace when
   * hostNetwork, to reach a server on 127.0.0.1; annotations in its spec, as a container manager
   * writes them; capAdd: capabilities added to runc's default three, as `docker run --cap-add`
   * does); resolves with its container.id (12 hex digits).
   */
  async run(
    args: string[],
    opts: {
      hostNetwork?: boolean;
      annotations?: Record<string, string>;
      id?: string;
      capAdd?: string[];
    } = {},
  ): Promise<string> {
    const cfg = JSON.parse(this.specJson) as Spec;
    cfg.process.terminal = false;
    cfg.process.args = args;
    cfg.root = { path: 'rootfs', readonly: false };
    if (opts.hostNetwork) cfg.linux.namespaces = cfg.linux.namespaces.filter((n) => n.type !== 'network');
    if (opts.annotations) cfg.annotations = opts.annotations;
    if (opts.capAdd?.length && cfg.process.capabilities)
      for (const set of ['bounding', 'effective', 'permitted'])
        cfg.process.capabilities[set] = [
          ...new Set([...(cfg.process.capabilities[set] ?? []), ...opts.capAdd]),
        ];
    writeFileSync(join(this.tmp, 'bundle', 'config.json'), JSON.stringify(cfg));
    const id = opts.id ?? randomBytes(32).toString('hex');
    this.ids.push(id);
    await new Promise<void>((resolve, reject) => {
      const c = spawn('runc', ['run', '--bundle', join(this.tmp, 'bundle'), id], {
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      c.once('error', reject);
      c.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run exited ${code}`))));
    });
    return id.slice(0, 12);
  }

  close(): void {
    for (const id of this.ids) {
      try {
        execFileSync('runc', ['delete', '-f', id], { stdio: 'ignore' });
      } catch {
        /* already gone (runc run removes it on exit) */
      }
    }
    if (this.mounted) execFileSync('umount', [this.rootfs]);
    this.mounted = false;
    rmSync(this.tmp, { recursive: true, force: true });
  }
}
