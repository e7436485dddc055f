/**
 * Shared by the deployment tests (#15): Bulwark's own image built by scripts/build-image.sh
 * (cached under .cache/image, rebuilt only when an input changes: the script skips an up-to-date
 * build in well under a second), and the chart renderer deploy/helm/render (Go text/template +
 * sprig, built offline from Debian's Go packages — NOT Helm, see its main.go).
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../fixtures/index.js';

const execFileP = promisify(execFile);

export const chartDir = join(repoRoot, 'deploy', 'helm', 'bulwark');

export interface BuiltImage {
  ociDir: string;
  tag: string;
  /** sha256:... of the image manifest the tag names */
  digest: string;
  /** seconds the build script took (≈0 when it was up to date) */
  seconds: number;
  log: string;
}

let imagePromise: Promise<BuiltImage> | undefined;

/** Builds (or reuses) the image; the script's flock keeps parallel test files from building twice. */
export function bulwarkImage(): Promise<BuiltImage> {
  imagePromise ??= (async () => {
    const t0 = Date.now();
    const r = await execFileP('bash', [join(repoRoot, 'scripts', 'build-image.sh')], {
      cwd: repoRoot,
      maxBuffer: 64 << 20,
    }).catch((e: Error & { stderr?: string }) => {
      throw new Error(`scripts/build-image.sh failed: ${e.message}\n${(e.stderr ?? '').slice(-3000)}`);
    });
    const ociDir = r.stdout.trim().split('\n').pop()!;
    const tag = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string })
      .version;
    const index = JSON.parse(readFileSync(join(ociDir, 'index.json'), 'utf8')) as {
      manifests: { digest: string; annotations?: Record<string, string> }[];
    };
    const m = index.manifests.find((x) => x.annotations?.['org.opencontainers.image.ref.name'] === tag);
    if (!m) throw new Error(`${ociDir} has no tag ${tag}`);
    return { ociDir, tag, digest: m.digest, seconds: (Date.now() - t0) / 1000, log: r.stderr };
  })();
  return imagePromise;
}

/** Reads a blob of an OCI layout as JSON. */
export function ociBlob<T>(ociDir: string, digest: string): T {
  const [alg, hex] = digest.split(':');
  return JSON.parse(readFileSync(join(ociDir, 'blobs', alg!, hex!), 'utf8')) as T;
}

let rendererPath: string | undefined;

/** The renderer's binary (built once per main.go version, ~15 s the first time). */
export function renderer(): string {
  rendererPath ??= execFileSync('bash', [join(repoRoot, 'deploy', 'helm', 'render', 'build.sh')], {
    encoding: 'utf8',
  }).trim();
  return rendererPath;
}

/** `render ARGS... deploy/helm/bulwark`: stdout (the manifests) or a thrown error with stderr. */
export function renderChart(args: string[]): string {
  return execFileSync(renderer(), [...args, chartDir], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The renderer's failure message for these args ('' if it rendered). */
export function renderError(args: string[]): string {
  try {
    renderChart(args);
    return '';
  } catch (e) {
    return String((e as { stderr?: string }).stderr ?? e);
  }
}

/** The OCI runtime spec (the parts the tests touch) that umoci unpack derives from the image config. */
export interface OciSpec {
  process: {
    terminal: boolean;
    user: { uid: number; gid: number };
    args: string[];
    env: string[];
    cwd: string;
    capabilities: Record<string, string[]>;
    noNewPrivileges?: boolean;
  };
  root: { path: string; readonly: boolean };
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: { namespaces: { type: string }[] };
}

/**
 * umoci unpack of the image, cached per manifest digest and shared by the test files (containers
 * get it as a read-only root). A mkdir lock keeps two files from unpacking at once; unpacked older
 * images (~300 MB each) idle for an hour are removed.
 */
export function unpacked(image: BuiltImage): { rootfs: string; spec: OciSpec } {
  const parent = join(repoRoot, '.cache', 'image');
  const dir = join(parent, `bundle-${image.digest.slice(7, 19)}`);
  const lock = `${dir}.lock`;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (i > 2400) throw new Error(`lock ${lock} held too long (remove it if stale)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
    }
  }
  try {
    if (!existsSync(join(dir, 'config.json'))) {
      rmSync(`${dir}.tmp`, { recursive: true, force: true });
      execFileSync('umoci', ['unpack', '--image', `${image.ociDir}:${image.tag}`, `${dir}.tmp`], {
        stdio: 'ignore',
      });
      rmSync(dir, { recursive: true, force: true });
      renameSync(`${dir}.tmp`, dir);
    }
    for (const n of readdirSync(parent)) {
      const p = join(parent, n);
      if (/^bundle-[0-9a-f]{12}$/.test(n) && p !== dir && Date.now() - statSync(p).mtimeMs > 3_600_000)
        rmSync(p, { recursive: true, force: true });
    }
  } finally {
    rmdirSync(lock);
  }
  return {
    rootfs: join(dir, 'rootfs'),
    spec: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as OciSpec,
  };
}

/** runc run of a prepared bundle to its end: exit code, stdout, stderr (SIGKILL after timeoutMs). */
export function runContainer(c: { id: string; bundle: string }, timeoutMs = 60_000) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const p = spawn('runc', ['run', '--bundle', c.bundle, c.id], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.once('error', reject);
    p.once('exit', (code) => {
      clearTimeout(t);
      resolve({ code, stdout, stderr });
    });
  });
}
