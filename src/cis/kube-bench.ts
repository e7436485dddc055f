/**
 * Converts kube-bench's CIS Kubernetes node definitions (cfg/<version>/node.yaml and the node
 * section of cfg/config.yaml, Apache-2.0) into Bulwark's benchmark format: the shell audits become
 * declarative audit sources, the file locations $variables with kube-bench's candidate lists.
 * Tests, texts, remediations and scored flags are carried over as they are; one deliberate change:
 * a file check whose file does not exist is INFO (not applicable) instead of FAIL.
 *
 * Regenerate the shipped files (policies/cis/k8s-node/*.yaml) with:
 *   npx tsx src/cis/kube-bench.ts <kube-bench checkout> <version>... > /dev/null
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify } from 'yaml';
import { BulwarkError } from '../core/errors.js';
import type { BenchCheck, Benchmark, VariableSpec } from './types.js';

/** kube-bench's audit commands of node.yaml, as audit sources. Unknown commands are an error. */
export function convertAudit(cmd: string, where: string): string {
  const c = cmd.trim();
  let m: RegExpExecArray | null;
  if ((m = /^\/bin\/ps -fC (\$\w+)$/.exec(c))) return `process ${m[1]}`;
  if ((m = /^\/bin\/cat (\$\w+)$/.exec(c))) return `file ${m[1]}`;
  if ((m = /^\/bin\/sh -c 'if test -e (\$\w+); then cat \1; fi'$/.exec(c))) return `file ${m[1]}`;
  const cafile = /CAFILE=\$\(ps -ef \| grep kubelet .*--client-ca-file=/.test(c);
  if ((m = /stat -c permissions=%a (\$\w+)/.exec(c)))
    return `stat permissions ${m[1] === '$CAFILE' || cafile ? '$kubeletcafile' : m[1]}`;
  if ((m = /stat -c %U:%G (\$\w+)/.exec(c))) {
    const path = m[1] === '$CAFILE' || cafile ? '$kubeletcafile' : m[1];
    return /else echo \\?"File not found\\?"/.test(c)
      ? `stat owner ${path} or File not found`
      : `stat owner ${path}`;
  }
  throw new BulwarkError(
    'UNSUPPORTED',
    `${where}: no audit source for kube-bench audit ${JSON.stringify(c)}`,
  );
}

type KbNodeConfig = {
  kubelet: Record<string, string | string[]>;
  proxy: Record<string, string | string[]>;
};

const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : v ? [String(v)] : []);

/** The $variables of the node checks, from kube-bench's config.yaml node section. */
export function nodeVariables(node: KbNodeConfig): Record<string, VariableSpec> {
  const k = node.kubelet;
  const p = node.proxy;
  return {
    kubeletbin: { kind: 'bin', candidates: list(k.bins) },
    proxybin: { kind: 'bin', candidates: list(p.bins) },
    kubeletconf: {
      kind: 'file',
      flag: { process: 'kubeletbin', name: '--config' },
      candidates: list(k.confs),
      default: String(k.defaultconf),
    },
    kubeletsvc: { kind: 'file', candidates: list(k.svc), default: String(k.defaultsvc) },
    kubeletkubeconfig: {
      kind: 'file',
      flag: { process: 'kubeletbin', name: '--kubeconfig' },
      candidates: list(k.kubeconfig),
      default: String(k.defaultkubeconfig),
    },
    kubeletcafile: {
      kind: 'file',
      flag: { process: 'kubeletbin', name: '--client-ca-file' },
      config: { file: 'kubeletconf', path: '{.authentication.x509.clientCAFile}' },
      candidates: list(k.cafile),
      default: String(k.defaultcafile),
    },
    proxykubeconfig: {
      kind: 'file',
      flag: { process: 'proxybin', name: '--kubeconfig' },
      candidates: list(p.kubeconfig),
      default: String(p.defaultkubeconfig),
    },
  };
}

type KbCheck = Record<string, unknown> & { id: unknown; text: string };

/** Converts one version's node.yaml (text) with the node section of config.yaml. */
export function convertNode(
  nodeYaml: string,
  configYaml: string,
  version: string,
  source: string,
): Benchmark {
  const doc = parseYaml(nodeYaml) as {
    id: unknown;
    text: string;
    groups: { id: unknown; text: string; checks: KbCheck[] }[];
  };
  const cfg = parseYaml(configYaml) as { node: KbNodeConfig };
  const groups = doc.groups.map((g) => ({
    id: String(g.id),
    text: g.text,
    checks: g.checks.map((c): BenchCheck => {
      const where = `${version} ${String(c.id)}`;
      const out: BenchCheck = { id: String(c.id), text: c.text };
      if (typeof c.audit === 'string' && c.audit.trim()) out.audit = convertAudit(c.audit, where);
      if (typeof c.audit_config === 'string' && c.audit_config.trim())
        out.audit_config = convertAudit(c.audit_config, where);
      if (c.use_multiple_values) out.use_multiple_values = true;
      // A file check on a file that does not exist is not applicable (INFO), where kube-bench
      // FAILs it — the false positives of managed nodes whose files live elsewhere (kube-bench#940).
      if (out.audit?.startsWith('stat ') && !out.audit.includes(' or ') && !out.audit_config)
        out.absent = 'info';
      if (c.type) out.type = String(c.type);
      if (c.tests) out.tests = c.tests as BenchCheck['tests'];
      if (typeof c.remediation === 'string') out.remediation = c.remediation.trim();
      out.scored = c.scored === true;
      return out;
    }),
  }));
  return {
    id: version,
    title: `CIS Kubernetes Benchmark (${version}), ${doc.text}`,
    version,
    target: 'k8s-node',
    source,
    variables: nodeVariables(cfg.node),
    groups,
  };
}

/** Converts `version` from a kube-bench checkout; returns the YAML text to ship. */
export function convertVersion(kubeBenchDir: string, version: string, commit = 'a73ce378418c'): string {
  const node = readFileSync(join(kubeBenchDir, 'cfg', version, 'node.yaml'), 'utf8');
  const config = readFileSync(join(kubeBenchDir, 'cfg', 'config.yaml'), 'utf8');
  const source = `aquasecurity/kube-bench @ ${commit} cfg/${version}/node.yaml and cfg/config.yaml (Apache-2.0)`;
  const bench = convertNode(node, config, version, source);
  return (
    `# Generated by src/cis/kube-bench.ts from ${source}.\n# Do not edit by hand: regenerate (test/cis/k8s-node.test.ts checks it is current).\n` +
    stringify(bench, { lineWidth: 0 })
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [dir, ...versions] = process.argv.slice(2);
  if (!dir || !versions.length) {
    process.stderr.write('usage: tsx src/cis/kube-bench.ts <kube-bench dir> <version>...\n');
    process.exit(2);
  }
  const outDir = fileURLToPath(new URL('../../policies/cis/k8s-node/', import.meta.url));
  for (const v of versions) writeFileSync(join(outDir, `${v}.yaml`), convertVersion(dir, v));
}
