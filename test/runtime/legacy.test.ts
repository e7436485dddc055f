/**
 * Falco's legacy regression tests (test/falco_tests.yaml, 2023-08) that run rule files on the
 * local captures (trace_files/*.scap): detections, priorities and per-rule counts must agree.
 * Tests that exercise Falco's process (config files, gRPC, stderr, drop handling, JSON output
 * switches) are not about the engine and are counted separately.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import {
  formatAlert,
  loadRules,
  parsePriority,
  PRIORITIES,
  type Alert,
} from '../../src/runtime/rules/index.js';
import { readScapFile, replay } from '../../src/runtime/scap/index.js';
import { SHARED } from '../helpers/shared.js';

const T = `${SHARED}/corpora/falco/falco-legacy-regression-2023-08/test`;
interface LegacyCase {
  trace_file?: string;
  rules_file?: string | string[];
  detect?: boolean;
  detect_level?: string | string[];
  detect_counts?: Record<string, number>[];
  priority?: string;
  disabled_rules?: string[];
  run_tags?: string[];
  disable_tags?: string[];
  all_events?: boolean;
  stdout_contains?: string;
  [k: string]: unknown;
}
const ENGINE_KEYS = new Set([
  'trace_file',
  'rules_file',
  'detect',
  'detect_level',
  'detect_counts',
  'priority',
  'disabled_rules',
  'run_tags',
  'disable_tags',
  'all_events',
  'stdout_contains',
  'rules_warning',
]);

const src = readFileSync(`${T}/falco_tests.yaml`, 'utf8').replace(/!mux/g, '');
const CASES = Object.entries((parse(src) as { trace_files: Record<string, LegacyCase> }).trace_files);

function ruleFiles(spec: string | string[]): { name: string; content: string }[] {
  const out: { name: string; content: string }[] = [];
  for (const f of Array.isArray(spec) ? spec : [spec]) {
    const p = join(T, f);
    if (statSync(p).isDirectory())
      for (const n of readdirSync(p).sort())
        out.push({ name: join(p, n), content: readFileSync(join(p, n), 'utf8') });
    else out.push({ name: p, content: readFileSync(p, 'utf8') });
  }
  return out;
}

describe('Falco legacy regression tests on local captures', () => {
  it('detections, levels and counts agree', async () => {
    const captures = new Map<string, Awaited<ReturnType<typeof readScapFile>>>();
    let agreed = 0;
    const bad: string[] = [];
    const other: string[] = [];
    for (const [name, c] of CASES) {
      if (
        !c.trace_file ||
        !c.rules_file ||
        c.detect === undefined ||
        Object.keys(c).some((k) => !ENGINE_KEYS.has(k))
      ) {
        other.push(name);
        continue;
      }
      const path = join(T, c.trace_file);
      let cap = captures.get(path);
      if (!cap) {
        try {
          cap = await readScapFile(path);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
            other.push(`${name} (capture not in the corpus)`);
            continue;
          }
          throw e;
        }
        captures.set(path, cap);
      }
      const rs = loadRules(ruleFiles(c.rules_file), {
        minPriority: c.priority ? parsePriority(c.priority) : undefined,
      });
      if (!rs.successful) {
        bad.push(`${name}: rules do not load: ${rs.errors.map((e) => e.message).join(' | ')}`);
        continue;
      }
      if (c.disabled_rules || c.run_tags || c.disable_tags)
        rs.select((r, on) => {
          if (c.run_tags) return r.tags.some((t) => c.run_tags!.includes(t));
          if (c.disable_tags && r.tags.some((t) => c.disable_tags!.includes(t))) return false;
          if (c.disabled_rules && c.disabled_rules.some((d) => new RegExp(d).test(r.name))) return false;
          return on;
        });
      const alerts: Alert[] = [];
      replay(cap, rs, (a) => alerts.push(a));
      const fails: string[] = [];
      if (alerts.length > 0 !== c.detect)
        fails.push(`detect ${alerts.length > 0} (${alerts.length} alerts), expected ${c.detect}`);
      if (c.detect && c.detect_level) {
        for (const lvl of Array.isArray(c.detect_level) ? c.detect_level : [c.detect_level]) {
          const p = parsePriority(lvl)!;
          if (!alerts.some((a) => a.priority.toLowerCase() === (p === 'informational' ? 'informational' : p)))
            fails.push(
              `no alert of priority ${lvl}: ${[...new Set(alerts.map((a) => a.priority))].join(',')}`,
            );
        }
        const min = Math.max(
          ...(Array.isArray(c.detect_level) ? c.detect_level : [c.detect_level]).map((l) =>
            PRIORITIES.indexOf(parsePriority(l)!),
          ),
        );
        void min;
      }
      for (const m of c.detect_counts ?? [])
        for (const [rule, n] of Object.entries(m)) {
          const got = alerts.filter((a) => a.rule === rule).length;
          if (got !== n) fails.push(`${rule}: ${got} alerts, expected ${n}`);
        }
      if (c.stdout_contains) {
        const re = new RegExp(c.stdout_contains);
        if (!alerts.some((a) => re.test(formatAlert(a, 'text'))))
          fails.push(
            `no output line matches /${c.stdout_contains}/: ${alerts
              .slice(0, 2)
              .map((a) => formatAlert(a, 'text'))
              .join(' | ')}`,
          );
      }
      if (fails.length) bad.push(`${name}: ${fails.join('; ')}`);
      else agreed++;
    }
    console.log(
      `legacy capture tests: ${agreed} agree, ${bad.length} disagree; ${other.length} exercise Falco's process, not the engine`,
    );
    if (bad.length) console.log(bad.join('\n'));
    assert.ok(agreed >= 40, `${agreed}`);
    assert.equal(bad.length, 0);
  });
});

describe("output rendering against Falco's recorded outputs", () => {
  it('single_rule_with_tags on cat_write.scap: the text and JSON lines Falco wrote (time_format_iso_8601)', async () => {
    const cap = await readScapFile(join(T, 'trace_files/cat_write.scap'));
    const rs = loadRules(ruleFiles('rules/single_rule_with_tags.yaml'), { hostname: 'test-falco-hostname' });
    const alerts: Alert[] = [];
    replay(cap, rs, (a) => alerts.push(a));
    const txt = readFileSync(join(T, 'output_files/single_rule_with_cat_write.txt'), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(
      alerts.map((a) => formatAlert(a, 'text', { iso8601: true })),
      txt,
    );
    // Falco 0.35 wrote output_fields last; the keys and values are what must agree
    const norm = (l: string) => {
      const big = /"evt\.time\.iso8601":(\d+)/.exec(l)![1];
      const o = JSON.parse(l) as Record<string, unknown>;
      (o.output_fields as Record<string, unknown>)['evt.time.iso8601'] = big;
      return o;
    };
    const json = readFileSync(join(T, 'output_files/single_rule_with_cat_write.json'), 'utf8')
      .trim()
      .split('\n');
    assert.deepEqual(
      alerts.map((a) => norm(formatAlert(a, 'json', { iso8601: true }))),
      json.map(norm),
    );
  });
});
