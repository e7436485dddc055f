/**
 * SARIF 2.1.0 validation for tests: the OASIS JSON schema in ./schemas (see README there) plus
 * the extra rules GitHub code scanning applies on upload. XML well-formedness is checked by Python's expat parser (a real XML parser).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => void;
let sarif: ValidateFunction | undefined;

export function assertValidSarif(doc: unknown): void {
  if (!sarif) {
    const schema = JSON.parse(
      readFileSync(new URL('./schemas/sarif-schema-2.1.0.json', import.meta.url), 'utf8'),
    ) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    sarif = ajv.compile(schema);
  }
  if (!sarif(doc)) {
    throw new Error(
      `SARIF schema violations:\n${(sarif.errors ?? [])
        .slice(0, 10)
        .map((e) => `${e.instancePath} ${e.message} ${JSON.stringify(e.params)}`)
        .join('\n')}`,
    );
  }
  // GitHub code scanning: every result has a ruleId present in the rules, a message, and a
  // physical location with a relative URI and a region; rules carry a numeric security-severity.
  const run = (
    doc as {
      runs: {
        tool: { driver: { rules: { id: string; properties?: Record<string, unknown> }[] } };
        results: Record<string, any>[];
      }[];
    }
  ).runs[0]!;
  const ids = new Set(run.tool.driver.rules.map((r) => r.id));
  for (const r of run.tool.driver.rules) {
    const s = Number(r.properties?.['security-severity']);
    if (!(s >= 0 && s <= 10)) throw new Error(`rule ${r.id}: security-severity not a number 0-10`);
  }
  for (const res of run.results) {
    if (!ids.has(res.ruleId)) throw new Error(`result for unknown rule ${res.ruleId}`);
    const loc = res.locations?.[0]?.physicalLocation;
    if (!loc?.artifactLocation?.uri || loc.artifactLocation.uri.startsWith('/'))
      throw new Error(`result ${res.ruleId}: no relative artifact URI`);
    if (!(loc.region?.startLine >= 1)) throw new Error(`result ${res.ruleId}: no region.startLine`);
  }
}

/** Parses XML with expat; throws with the parser's message when it is not well-formed. */
export function assertWellFormedXml(xml: string): void {
  execFileSync(
    'python3',
    ['-c', 'import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.buffer.read())'],
    { input: xml },
  );
}

/** Parses XML with Python and returns testsuite/testcase facts for assertions. */
export function junitFacts(xml: string): {
  suites: {
    name: string;
    tests: number;
    failures: number;
    cases: { classname: string; name: string; failure: string }[];
  }[];
} {
  const py = `
import sys, json, xml.dom.minidom
d = xml.dom.minidom.parseString(sys.stdin.buffer.read())
out = []
for s in d.getElementsByTagName('testsuite'):
    cases = []
    for c in s.getElementsByTagName('testcase'):
        f = c.getElementsByTagName('failure')
        cases.append({'classname': c.getAttribute('classname'), 'name': c.getAttribute('name'), 'failure': f[0].getAttribute('message') if f else ''})
    out.append({'name': s.getAttribute('name'), 'tests': int(s.getAttribute('tests')), 'failures': int(s.getAttribute('failures')), 'cases': cases})
print(json.dumps({'suites': out}))
`;
  return JSON.parse(execFileSync('python3', ['-c', py], { input: xml }).toString('utf8'));
}
