/**
 * Policy engine throughput on a large manifest set: the realistic fixtures of
 * test/misconfig/fixtures/k8s replicated (names and namespaces varied) into ~5,000 resources.
 *
 * Baseline: parsing the same YAML with the `yaml` package (parseAllDocuments + toJS, with a
 * LineCounter), which any manifest scanner must do. Measured: the same parse plus evaluating every
 * built-in check (compiled once) over every resource, with source positions for the findings.
 * Reports check evaluations per second (one evaluation = one check on one scope item: a resource,
 * pod or container), resources per second, and the ratio measured/baseline. Best of 3 runs each
 * after a warm-up. Runs the TypeScript sources through tsx like the tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LineCounter, parseAllDocuments } from 'yaml';
import { CheckSet, evaluate, loadChecks } from '../src/policy/index.js';
import { parseManifests } from '../src/misconfig/index.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const FIX = join(root, 'test', 'misconfig', 'fixtures', 'k8s');
const COPIES = 250;

function corpus(): { text: string; resources: number } {
  const docs: string[] = [];
  for (const f of readdirSync(FIX).filter((n) => n.endsWith('.yaml'))) {
    const text = readFileSync(join(FIX, f), 'utf8');
    for (const d of text.split(/^---$/m)) if (/^kind:/m.test(d)) docs.push(d.trim());
  }
  const out: string[] = [];
  for (let i = 0; i < COPIES; i++) {
    for (const d of docs)
      out.push(
        d.replace(/^( {2}name: )(\S+)/m, `$1$2-${i}`).replace(/^( {2}namespace: )(\S+)/m, `$1$2-${i % 17}`),
      );
  }
  return { text: out.join('\n---\n') + '\n', resources: out.length };
}

function best(fn: () => void, runs = 3): number {
  fn(); // warm-up
  let min = Infinity;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    min = Math.min(min, performance.now() - t);
  }
  return min;
}

const { text, resources } = corpus();
const t0 = performance.now();
const checks = loadChecks();
const compileMs = performance.now() - t0;
const set = new CheckSet(checks);

const baselineMs = best(() => {
  const lc = new LineCounter();
  let n = 0;
  for (const d of parseAllDocuments(text, { lineCounter: lc })) if (d.toJS()) n++;
  if (n !== resources) throw new Error(`parsed ${n} of ${resources}`);
});

let evaluations = 0;
let findings = 0;
const measuredMs = best(() => {
  const { inputs } = parseManifests(text, 'bench.yaml');
  evaluations = 0;
  for (const i of inputs) for (const c of set.forKind(i.kind)) evaluations += i.scope(c.scope)?.length ?? 0;
  const r = evaluate(set, inputs);
  if (r.warnings.length) throw new Error(r.warnings[0]);
  findings = r.findings.length;
});
const evalOnlyMs = measuredMs - baselineMs;

console.log(
  `corpus: ${resources} resources (${(text.length / 1e6).toFixed(1)} MB YAML), ${checks.length} checks compiled in ${compileMs.toFixed(0)} ms`,
);
console.log(
  `baseline  YAML parse:          ${baselineMs.toFixed(0)} ms  (${((resources / baselineMs) * 1000).toFixed(0)} resources/s)`,
);
console.log(
  `measured  parse + all checks:  ${measuredMs.toFixed(0)} ms  (${((resources / measuredMs) * 1000).toFixed(0)} resources/s, ${findings} findings)`,
);
console.log(
  `check evaluations: ${evaluations} → ${((evaluations / measuredMs) * 1000).toFixed(0)} checks/s end to end, ${((evaluations / Math.max(evalOnlyMs, 1)) * 1000).toFixed(0)} checks/s for evaluation alone`,
);
console.log(`ratio measured/baseline: ${(measuredMs / baselineMs).toFixed(2)}x`);

// Peak memory of the whole CLI (built code) on the same corpus, written to a JSON report: the
// resources are evaluated document by document and the report is streamed (goal ≤ 200 MB).
{
  const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { spawnSync } = await import('node:child_process');
  const dir = mkdtempSync(join(tmpdir(), 'bulwark-bench-config-'));
  try {
    writeFileSync(join(dir, 'all.yaml'), text);
    const script = `const { main } = await import(${JSON.stringify(join(root, 'dist', 'cli', 'main.js'))});
const code = await main(['node', 'bulwark', '-q', 'scan', 'config', ${JSON.stringify(join(dir, 'all.yaml'))}, '-f', 'json', '-o', ${JSON.stringify(join(dir, 'r.json'))}]);
process.stderr.write(JSON.stringify({ code, maxRssMb: process.resourceUsage().maxRSS / 1024 }) + '\\n');`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    const m = JSON.parse(r.stderr.trim().split('\n').pop() ?? '{}') as { code?: number; maxRssMb?: number };
    if (m.code !== 0) throw new Error(`scan config failed: ${r.stderr}`);
    console.log(
      `bulwark scan config -f json on ${resources} resources: peak RSS ${m.maxRssMb!.toFixed(0)} MB (goal ≤ 200 MB: ${m.maxRssMb! <= 200 ? 'met' : 'NOT met'})`,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
