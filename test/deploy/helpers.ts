/**
 * Shared by the deployment tests (#15): Bulwark's own image built by scripts/build-image.sh
 * (cached under .cache/image, rebuilt only when an input changes: the script skips an up-to-date
 * build in well under a second), and the chart renderer deploy/helm/render (Go text/template +
 * sprig, built offline from Debian's Go packages — NOT Helm, see its main.go).
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
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
