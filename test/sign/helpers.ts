/**
 * Helpers for the cosign fixture tests: the containers/image fixtures in ../shared/corpora/cosign,
 * copied to a temp dir because the corpus stores git symlinks as small text files naming their
 * target ("../dir-img-cosign-valid/manifest.json"); the copy resolves them.
 */
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { CORPORA } from '../helpers/shared.js';

export const COSIGN_FIXTURES = join(CORPORA, 'cosign', 'signature', 'fixtures');

/** Content of a corpus file, following text-file symlinks. */
export function corpusFile(path: string): Buffer {
  let p = path;
  for (let i = 0; i < 5; i++) {
    const b = readFileSync(p);
    const s = b.toString('utf8');
    if (b.length < 200 && /^\.\.?\//.test(s) && !s.includes('\n')) {
      const target = resolve(dirname(p), s.trim());
      if (existsSync(target)) {
        p = target;
        continue;
      }
    }
    return b;
  }
  throw new Error(`${path}: symlink loop`);
}

export const fixtureText = (name: string) => corpusFile(join(COSIGN_FIXTURES, name)).toString('utf8');

/** Copies the fixture dirs (dir-img-*) to a temp dir with symlinks resolved; returns the copy's root. */
export function materializeFixtures(): string {
  const out = mkdtempSync(join(tmpdir(), 'bulwark-cosign-fixtures-'));
  for (const d of readdirSync(COSIGN_FIXTURES)) {
    const src = join(COSIGN_FIXTURES, d);
    if (!d.startsWith('dir-img-') || !statSync(src).isDirectory()) continue;
    mkdirSync(join(out, d));
    for (const f of readdirSync(src)) writeFileSync(join(out, d, f), corpusFile(join(src, f)));
  }
  return out;
}

export interface SigstoreJson {
  mimeType: string;
  payload: string;
  annotations: Record<string, string>;
}

export function readSigstoreJson(path: string): SigstoreJson {
  const b = corpusFile(path);
  return JSON.parse(b.subarray('\x00sigstore-json\n'.length).toString('utf8')) as SigstoreJson;
}

/** A dir: image made of a fixture's manifest and the given signatures (sigstore-json files). */
export function makeDirImage(root: string, name: string, manifestFrom: string, sigs: SigstoreJson[]): string {
  const dir = join(root, name);
  mkdirSync(dir);
  cpSync(join(root, manifestFrom, 'manifest.json'), join(dir, 'manifest.json'));
  sigs.forEach((s, i) =>
    writeFileSync(
      join(dir, `signature-${i + 1}`),
      Buffer.concat([Buffer.from('\x00sigstore-json\n'), Buffer.from(JSON.stringify(s))]),
    ),
  );
  return dir;
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** Runs the CLI from source in a child process (stdout/stderr captured apart from the test reporter's). */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const e: NodeJS.ProcessEnv = { ...process.env, ...env };
    delete e.NODE_TEST_CONTEXT;
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '-e',
        `import('./src/cli/main.ts').then(async (m) => { process.exitCode = await m.main(['node', 'bulwark', ...process.argv.slice(1)]); })`,
        '--',
        ...args,
      ],
      { cwd: repoRoot, env: e, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? 1, stdout, stderr }));
  });
}
