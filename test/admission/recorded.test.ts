/**
 * Recorded requests: the Kubernetes audit events of Falco's k8s_audit regression corpus
 * (../shared/corpora/falco/.../trace_files/k8s_audit: pods privileged, hostNetwork, sensitive
 * mounts, unprivileged, deployments, services, RBAC, configmaps...) are turned into AdmissionReview
 * v1 requests and sent to the real webhook over TLS on 127.0.0.1. No kube-apiserver can run here, so
 * the audit events stand in for what it would send: an audit event at RequestResponse level
 * carries the same requestObject an admission webhook receives.
 *
 * The same objects are written to files and scanned with `bulwark scan config -f json`: for every
 * object the failing check ids must be identical through both paths, and the webhook (enforce
 * mode) must deny exactly the objects scan config reports failures for.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CheckSet, loadChecks } from '../../src/policy/index.js';
import {
  admissionReviewFor,
  startWebhook,
  type AdmissionReview,
  type WebhookServer,
} from '../../src/admission/index.js';
import { CORPORA } from '../helpers/shared.js';
import { cli, httpsRequest, makeTls, type Tls } from './helpers.js';

const AUDIT_DIR = join(
  CORPORA,
  'falco',
  'falco-legacy-regression-2023-08',
  'test',
  'trace_files',
  'k8s_audit',
);

type Obj = Record<string, unknown>;
interface Recorded {
  file: string;
  index: number;
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  resource: string;
  namespace?: string;
  object: Obj | null;
  review: AdmissionReview;
}

const VERBS: Record<string, Recorded['operation']> = { create: 'CREATE', update: 'UPDATE', delete: 'DELETE' };

function loadRecorded(): Recorded[] {
  const out: Recorded[] = [];
  for (const name of readdirSync(AUDIT_DIR)
    .filter((n) => n.endsWith('.json'))
    .sort()) {
    const lines = readFileSync(join(AUDIT_DIR, name), 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    lines.forEach((line, i) => {
      const e = JSON.parse(line) as Obj;
      const op = VERBS[String(e.verb)];
      const ref = (e.objectRef ?? {}) as Obj;
      // only ResponseComplete events of writes through the API (not exec/attach subresources)
      if (!op || e.stage !== 'ResponseComplete' || ref.subresource) return;
      const ro = e.requestObject as Obj | undefined;
      const isObject =
        ro && typeof ro.kind === 'string' && typeof ro.apiVersion === 'string' && ro.kind !== 'DeleteOptions';
      if (op !== 'DELETE' && !isObject) return;
      const namespace = typeof ref.namespace === 'string' ? ref.namespace : undefined;
      let object: Obj | null = null;
      if (op !== 'DELETE') {
        const meta = { ...((ro!.metadata ?? {}) as Obj) };
        if (namespace && meta.namespace === undefined) meta.namespace = namespace;
        // a generated name is given by the API server before admission; use the response's
        const resp = e.responseObject as Obj | undefined;
        const rmeta = (resp?.metadata ?? {}) as Obj;
        if (meta.name === undefined && typeof rmeta.name === 'string') meta.name = rmeta.name;
        object = { ...ro!, metadata: meta };
      }
      const uid = String(e.auditID ?? `${name}-${i}`);
      out.push({
        file: name,
        index: i,
        operation: op,
        resource: String(ref.resource),
        ...(namespace ? { namespace } : {}),
        object,
        review: admissionReviewFor(object, {
          uid,
          operation: op,
          resource: String(ref.resource),
          namespace,
          userInfo: e.user as Obj,
          ...(op === 'DELETE'
            ? {
                oldObject: {
                  apiVersion: String(ref.apiVersion ?? 'v1'),
                  kind: 'Unknown',
                  metadata: { name: ref.name },
                },
              }
            : {}),
        }),
      });
    });
  }
  return out;
}

let tls: Tls;
let hook: WebhookServer;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-admission-recorded-'));
before(async () => {
  tls = makeTls();
  hook = await startWebhook({
    cert: tls.cert,
    key: tls.key,
    checks: new CheckSet(loadChecks()),
    mode: 'enforce',
    failurePolicy: 'closed',
    deadlineMs: 2000,
  });
});
after(async () => {
  await hook?.close();
  tls?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

test('recorded audit events → AdmissionReviews: same failing checks as scan config, 100%', async () => {
  const recorded = loadRecorded();
  const writes = recorded.filter((r) => r.object);
  const pods = writes.filter((r) => r.object!.kind === 'Pod');
  // the corpus as shipped: privileged, hostNetwork, sensitive mounts, unprivileged... pods
  assert.ok(pods.length >= 10, `expected at least 10 pod creations in ${AUDIT_DIR}, found ${pods.length}`);
  assert.ok(writes.some((r) => r.object!.kind === 'Deployment'));

  // scan config over the same objects, one file each
  const fileOf = new Map<Recorded, string>();
  writes.forEach((r, i) => {
    const f = join(tmp, `${String(i).padStart(3, '0')}-${r.file.replace(/\.json$/, '')}-${r.index}.json`);
    writeFileSync(f, JSON.stringify(r.object, null, 2));
    fileOf.set(r, f);
  });
  // -o: the test runner's own reports share this process's stdout
  const out = join(tmp, 'report.out');
  const scan = await cli('scan', 'config', '-f', 'json', '-o', out, tmp);
  assert.equal(scan.code, 0);
  const report = JSON.parse(readFileSync(out, 'utf8')) as {
    results: { target: string; findings: { id: string; status: string }[] }[];
  };
  const scanIds = new Map<string, string[]>();
  for (const r of report.results)
    scanIds.set(
      r.target,
      [...new Set(r.findings.filter((f) => f.status === 'fail').map((f) => f.id))].sort(),
    );

  let compared = 0;
  const mismatches: string[] = [];
  for (const r of recorded) {
    const res = await httpsRequest(`${hook.url}/validate`, tls.cert, { body: JSON.stringify(r.review) });
    assert.equal(res.status, 200, `${r.file}: HTTP ${res.status} ${res.body}`);
    const review = JSON.parse(res.body) as AdmissionReview;
    assert.equal(review.apiVersion, 'admission.k8s.io/v1');
    assert.equal(review.kind, 'AdmissionReview');
    const resp = review.response!;
    assert.equal(resp.uid, r.review.request!.uid, `${r.file}: uid echoed`);
    if (!r.object) {
      assert.equal(resp.allowed, true, `${r.file}: DELETE is allowed`);
      continue;
    }
    const hookIds = (resp.auditAnnotations?.['failed-checks'] ?? '').split(',').filter(Boolean).sort();
    const want = scanIds.get(fileOf.get(r)!) ?? [];
    if (hookIds.join(',') !== want.join(','))
      mismatches.push(
        `${r.file}#${r.index}: webhook [${hookIds.join(',')}] vs scan config [${want.join(',')}]`,
      );
    // enforce mode over all severities: denied exactly when scan config reports a failure
    if (resp.allowed !== (want.length === 0))
      mismatches.push(
        `${r.file}#${r.index}: allowed=${resp.allowed} but scan config fails ${want.length} checks`,
      );
    if (!resp.allowed) {
      assert.equal(resp.status?.code, 403);
      for (const id of want) assert.match(resp.status!.message!, new RegExp(id));
    }
    compared++;
  }
  assert.deepEqual(mismatches, []);
  console.error(
    `compared ${compared} objects (${pods.length} pods) and ${recorded.length - writes.length} deletes`,
  );
  assert.equal(compared, writes.length);

  // the behaviours the corpus was recorded for, through the webhook's verdict
  const idsOf = (file: string) => scanIds.get(fileOf.get(writes.find((r) => r.file === file)!)!) ?? [];
  assert.ok(idsOf('create_nginx_pod_privileged.json').includes('BW-K8S-001'));
  assert.ok(idsOf('create_nginx_pod_privileged_2nd_container.json').includes('BW-K8S-001'));
  assert.ok(idsOf('create_nginx_pod_hostnetwork.json').includes('BW-K8S-004'));
  assert.ok(!idsOf('create_nginx_pod_nohostnetwork.json').includes('BW-K8S-004'));
  assert.ok(idsOf('create_nginx_pod_sensitive_mount.json').includes('BW-K8S-020'));
  assert.ok(idsOf('create_nginx_pod_sensitive_mount_2nd_container.json').includes('BW-K8S-020'));
  assert.ok(!idsOf('create_nginx_pod_unprivileged.json').includes('BW-K8S-001'));
  assert.ok(!idsOf('create_nginx_pod_unprivileged.json').includes('BW-K8S-020'));
});
