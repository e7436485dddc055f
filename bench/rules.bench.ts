/**
 * Rules evaluation throughput: the upstream stable Falco ruleset (shared/data/falco) replayed over
 * the legacy Falco captures (trace_files/*.scap), each read BENCH_RULES_REPEAT (default 200) times.
 *
 * Baseline: decoding the events (block walk, header and parameter decoding into SyscallEvents).
 * Measured: the same decoding plus the state tracker and the compiled ruleset (evt.type index,
 * closures, output rendering for alerts). Reports events/s for both and the ratio
 * measured/baseline (the share of decoding throughput kept with rules on). Best of 5 after a
 * warm-up. One core (Node's main thread).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRules } from '../src/runtime/rules/index.js';
import { parseScap, stateFromCapture } from '../src/runtime/scap/index.js';
import { gunzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.BULWARK_SHARED_DIR ?? join(root, '..', 'shared');
const TF = join(shared, 'corpora/falco/falco-legacy-regression-2023-08/test/trace_files');
const REPEAT = Number(process.env.BENCH_RULES_REPEAT ?? 200);

const raws = readdirSync(TF)
  .filter((f) => f.endsWith('.scap'))
  .sort()
  .map((f) => {
    const b = readFileSync(join(TF, f));
    return b[0] === 0x1f ? gunzipSync(b) : b;
  });
const rs = loadRules([
  { name: 'falco_rules.yaml', content: readFileSync(join(shared, 'data/falco/falco_rules.yaml'), 'utf8') },
]);
if (!rs.successful) throw new Error(rs.errors.map((e) => e.message).join('; '));

function best(fn: () => number, runs = 5): { ms: number; n: number } {
  fn();
  let min = Infinity;
  let n = 0;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    n = fn();
    min = Math.min(min, performance.now() - t);
  }
  return { ms: min, n };
}

let alerts = 0;
const baseline = best(() => {
  let n = 0;
  for (let r = 0; r < REPEAT; r++)
    for (const raw of raws) {
      const cap = parseScap(raw);
      for (const ev of cap.events()) n += ev.num > 0 ? 1 : 0;
    }
  return n;
});
const measured = best(() => {
  let n = 0;
  alerts = 0;
  for (let r = 0; r < REPEAT; r++)
    for (const raw of raws) {
      const cap = parseScap(raw);
      const st = stateFromCapture(cap);
      for (const ev of cap.events()) {
        st.process(ev);
        alerts += rs.evaluate(ev, st).length;
        n++;
      }
    }
  return n;
});
const eps = (x: { ms: number; n: number }) => x.n / (x.ms / 1000);
console.log(
  `corpus: ${raws.length} captures x ${REPEAT} = ${baseline.n} events; ruleset: ${rs.rules.filter((r) => r.enabled).length} stable rules`,
);
console.log(
  `baseline (decode): ${(eps(baseline) / 1000).toFixed(0)}k events/s (${baseline.ms.toFixed(0)} ms)`,
);
console.log(
  `rules (decode + state + rules): ${(eps(measured) / 1000).toFixed(0)}k events/s (${measured.ms.toFixed(0)} ms), ${alerts} alerts`,
);
console.log(`ratio: ${(eps(measured) / eps(baseline)).toFixed(2)}x decoding alone`);
