/**
 * The k8s_audit source: Falco's legacy k8s audit tests (derived/k8s_audit_detection_cases.jsonl)
 * run the 1.0.1 and k8saudit plugin rule files over recorded audit events; detections, priorities
 * and per-rule counts must agree.
 */
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { loadRules, parsePriority, type Alert } from '../../src/runtime/rules/index.js';
import { parseAuditEvents } from '../../src/runtime/rules/k8saudit.js';
import { SHARED } from '../helpers/shared.js';

const F = `${SHARED}/corpora/falco`;
interface Case {
  test: string;
  detect: boolean;
  detect_level: string | null;
  rules_files: string[];
  events_file: string;
  detect_counts: Record<string, number>;
  other: Record<string, unknown>;
}
const CASES = readFileSync(`${F}/derived/k8s_audit_detection_cases.jsonl`, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l) as Case);

describe('k8s audit detections (Falco legacy k8s audit tests)', () => {
  it('every case agrees', () => {
    assert.ok(CASES.length >= 60);
    const bad: string[] = [];
    // the 66 cases use 14 combinations of rule files: each is loaded once
    const loaded = new Map<string, ReturnType<typeof loadRules>>();
    for (const c of CASES) {
      const key = c.rules_files.join('\n');
      let rs = loaded.get(key);
      if (!rs) {
        rs = loadRules(
          c.rules_files.map((f) => ({ name: f, content: readFileSync(`${F}/${f}`, 'utf8') })),
          { sources: ['syscall', 'k8s_audit'] },
        );
        loaded.set(key, rs);
      }
      if (!rs.successful) {
        bad.push(
          `${c.test}: rules do not load: ${rs.errors.map((e) => `${e.file}:${e.line} ${e.message}`).join(' | ')}`,
        );
        continue;
      }
      const alerts: Alert[] = [];
      for (const ev of parseAuditEvents(readFileSync(`${F}/${c.events_file}`, 'utf8')))
        alerts.push(...rs.evaluateAudit(ev));
      const fails: string[] = [];
      if (alerts.length > 0 !== c.detect)
        fails.push(`detect ${alerts.length > 0} [${alerts.map((a) => a.rule).join(', ')}]`);
      if (
        c.detect &&
        c.detect_level &&
        !alerts.some((a) => a.priority.toLowerCase() === parsePriority(c.detect_level!))
      )
        fails.push(`no ${c.detect_level} alert: ${alerts.map((a) => a.priority).join(',')}`);
      for (const [rule, n] of Object.entries(c.detect_counts)) {
        const got = alerts.filter((a) => a.rule === rule).length;
        if (got !== n) fails.push(`${rule}: ${got}, expected ${n}`);
      }
      if (fails.length) bad.push(`${c.test}: ${fails.join('; ')}`);
    }
    console.log(`k8s audit cases: ${CASES.length - bad.length}/${CASES.length} agree`);
    if (bad.length) console.log(bad.join('\n'));
    assert.equal(bad.length, 0);
  });
});
