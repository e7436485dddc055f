#!/usr/bin/env node
// Bundles the CLI (dist/bundle/, one entry and on-demand chunks per command group and scanner) so a
// command loads a handful of files instead of hundreds of modules: start-up is module loading.
// Left outside the bundle: native addons, the server stack (loaded only by `bulwark server`), and
// packages that read their own files at run time.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outdir = join(root, 'dist', 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: [join(root, 'src', 'cli', 'main.ts')],
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  outdir,
  // chunks live at dist/bundle/, as deep as dist/cli/: paths made from import.meta.url still work
  external: [
    'better-sqlite3',
    '@kubernetes/client-node',
    'pg',
    'pino',
    'fastify',
    '@fastify/*',
    'playwright-core',
    '@bufbuild/re2',
    '@cyclonedx/*',
    // loaded on first use (registry pulls, uploads): bundling it gains nothing
    'undici',
    // only with --nats
    '@nats-io/*',
  ],
  // CommonJS dependencies inside an ESM bundle need a require
  banner: {
    js: "import { createRequire as __bulwarkCreateRequire } from 'node:module'; const require = __bulwarkCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
  legalComments: 'linked',
});
console.error('bundle: dist/bundle/main.js');
