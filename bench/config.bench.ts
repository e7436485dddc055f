/**
 * `bulwark scan config` peak memory on 5,000 Kubernetes resources (issue #8: ≤ 200 MB).
 *
 * Corpus: the real manifests of Polaris' check tests (/work/shared/corpora/polaris/test/checks:
 * Deployments, Pods, StatefulSets, CronJobs, RBAC, PDBs, HPAs, Services, Ingresses... with the
 * failing and passing shapes its checks look for), every document renamed per copy (metadata.name
 * gets "-<copy>", namespaces vary) and repeated until there are ≥ 5,000 resources, written as one
 * multi-document YAML file (the `helm template | bulwark scan config -` shape) and, separately, as
 * a directory of one file per source manifest and copy.
 *
 * Measured: the built CLI (dist/) run in a child process, `scan config FILE -f json -o OUT`, peak
 * RSS from the child's getrusage (ru_maxrss); baseline in the same run: a child that only starts
 * Node and loads the CLI module (`bulwark --version`), so the ratio shows what the scan itself adds.
 * Prints "met" / "NOT met" against the 200 MB goal; exits non-zero only if it cannot run.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CORPORA } from '../test/helpers/shared.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const POLARIS = join(CORPORA, 'polaris', 'test', 'checks');
const RESOURCES = Number(process.env.BENCH_CONFIG_RESOURCES ?? 5_000);
const GOAL_MB = 200;

/** Every YAML document of the corpus that is a Kubernetes object, with the file it came from. */
function documents(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.ya?ml$/.test(name)) {
        const text = readFileSync(p, 'utf8');
        for (const d of text.split(/^---[ \t]*$/m))
          if (/^kind:/m.test(d) && /^apiVersion:/m.test(d)) out.push({ file: p, text: d.trim() });
      }
    }
  };
  walk(POLARIS);
  return out;
}

function corpus(dir: string): { file: string; tree: string; resources: number; bytes: number } {
  const docs = documents();
  const copies = Math.ceil(RESOURCES / docs.length);
  const all: string[] = [];
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  for (let k = 0; k < copies; k++) {
    const perFile = new Map<string, string[]>();
    for (const d of docs) {
      const t = d.text
        .replace(/^( {2}name: *)(["']?)([^"'\s]+)\2/m, `$1$3-${k}`)
        .replace(/^( {2}namespace: *)(["']?)([^"'\s]+)\2/m, `$1$3-${k % 17}`);
      all.push(t);
      const l = perFile.get(d.file) ?? [];
      l.push(t);
      perFile.set(d.file, l);
    }
    let i = 0;
    for (const l of perFile.values())
      writeFileSync(join(tree, `c${k}-${i++}.yaml`), l.join('\n---\n') + '\n');
  }
  const text = all.join('\n---\n') + '\n';
  const file = join(dir, 'all.yaml');
  writeFileSync(file, text);
  return { file, tree, resources: all.length, bytes: text.length };
}

/** Runs the built CLI's main() in a child; returns its exit code and peak RSS in MB. */
function child(args: string[]): { code: number; maxRssMb: number; ms: number } {
  const script = `const t = performance.now();
const { main } = await import(${JSON.stringify(join(root, 'dist', 'cli', 'main.js'))});
const code = await main(['node', 'bulwark', ...${JSON.stringify(args)}]);
process.stderr.write('\\n' + JSON.stringify({ code, maxRssMb: process.resourceUsage().maxRSS / 1024, ms: performance.now() - t }) + '\\n');`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    encoding: 'utf8',
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const last = r.stderr.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as { code: number; maxRssMb: number; ms: number };
  } catch {
    throw new Error(`child failed (${r.status}): ${r.stderr.slice(-2000)}`);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-config-'));
try {
  const c = corpus(dir);
  console.log(
    `corpus: ${c.resources} resources from ${documents().length} Polaris test manifests (${(c.bytes / 1e6).toFixed(1)} MB YAML)`,
  );
  const base = child(['--version']);
  console.log(`baseline (node + CLI module, --version): peak RSS ${base.maxRssMb.toFixed(0)} MB`);
  for (const [label, target] of [
    ['one multi-document file', c.file],
    ['a directory of files', c.tree],
  ] as const) {
    const out = join(dir, 'r.json');
    const m = child(['-q', 'scan', 'config', target, '-f', 'json', '-o', out, '--exit-code', '0']);
    if (m.code !== 0) throw new Error(`scan config exited ${m.code}`);
    const report = JSON.parse(readFileSync(out, 'utf8')) as { results: { findings: unknown[] }[] };
    const findings = report.results.reduce((n, r) => n + r.findings.length, 0);
    console.log(
      `scan config -f json, ${label}: ${findings} findings in ${(m.ms / 1000).toFixed(1)} s, peak RSS ${m.maxRssMb.toFixed(0)} MB (${(m.maxRssMb / base.maxRssMb).toFixed(1)}x baseline) — goal ≤ ${GOAL_MB} MB: ${m.maxRssMb <= GOAL_MB ? 'met' : 'NOT met'}`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
