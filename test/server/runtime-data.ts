/**
 * Runtime events for the console tests: the alerts of the Falco regression corpus's own cat rules
 * (with ATT&CK tags added the way users tag theirs) on the corpus capture cat_write.scap, built
 * as the agent ships them (alertEvent, processLineage). The capture has no containers: every other
 * alert gets made-up pod metadata (POD) so the console's container and namespace views have data.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { alertEvent, processLineage, type RuntimeEvent } from '../../src/agent/index.js';
import { loadRules } from '../../src/runtime/rules/index.js';
import { readScapFile, stateFromCapture } from '../../src/runtime/scap/index.js';
import type { ContainerInfo } from '../../src/runtime/state/index.js';
import { SHARED } from '../helpers/shared.js';

const T = `${SHARED}/corpora/falco/falco-legacy-regression-2023-08/test`;

export const POD: ContainerInfo = {
  id: 'f3c0a9d2b7e14c55a1d0e9b8c7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8',
  name: 'shop',
  image: 'registry.example/team-a/shop:1.4',
  imageDigest: 'sha256:' + 'ab'.repeat(32),
  k8s: { namespace: 'team-a', podName: 'shop-7d9f-abcde', labels: { app: 'shop' } },
};

/** The alerts of the corpus's cat rules on cat_write.scap, as the agent would ship them. */
export async function captureEvents(): Promise<{ events: RuntimeEvent[]; byRule: Map<string, number> }> {
  const rules = ['single_rule.yaml', 'double_rule.yaml'].map((f) => ({
    name: join(T, 'rules', f),
    content: readFileSync(join(T, 'rules', f), 'utf8'),
  }));
  // ATT&CK tags on the corpus's rules, the way users tag theirs (Falco's override/append)
  rules.push({
    name: 'tags.yaml',
    content: `- rule: open_from_cat
  tags: [T1005, mitre_collection, filesystem]
  override:
    tags: append
- rule: exec_from_cat
  tags: [T1059.004, mitre_execution, process]
  override:
    tags: append
`,
  });
  const rs = loadRules(rules);
  assert.ok(rs.successful, rs.errors.map((e) => e.message).join('; '));
  rs.select(() => true);
  const cap = await readScapFile(join(T, 'trace_files', 'cat_write.scap'));
  const st = stateFromCapture(cap);
  const events: RuntimeEvent[] = [];
  const byRule = new Map<string, number>();
  let n = 0;
  for (const ev of cap.events()) {
    st.process(ev);
    for (const a of rs.evaluate(ev, st)) {
      n++;
      byRule.set(a.rule, (byRule.get(a.rule) ?? 0) + 1);
      // every other alert "in a pod", the rest on the host
      events.push(
        alertEvent(a, `cap-${n}`, {
          node: n % 2 ? 'node-a' : 'node-b',
          cluster: 'prod-eu',
          ...(n % 2 ? { container: POD } : {}),
          process: processLineage(st, st.current),
        }),
      );
    }
  }
  assert.ok(events.length >= 10, `the capture fires the corpus rules (${events.length} alerts)`);
  return { events, byRule };
}
