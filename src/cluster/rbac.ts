/**
 * RBAC analysis: from Roles, ClusterRoles and their bindings, which subjects (users, groups,
 * service accounts) can do the dangerous things listed in policies/rbac/questions.yaml — read
 * secrets, exec into pods, create workloads, escalate, hold wildcards. Works the same on objects
 * read from a live cluster and on manifests.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BulwarkError } from '../core/errors.js';
import type { MisconfigFinding } from '../core/findings.js';
import { SEVERITIES } from '../core/types.js';

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs?: string[];
  resourceNames?: string[];
  nonResourceURLs?: string[];
}

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

const permissionSchema = z
  .object({
    apiGroups: z.array(z.string()).min(1),
    resources: z.array(z.string()).min(1),
    verbs: z.array(z.string()).min(1),
    wildcardOnly: z.boolean().optional(),
  })
  .strict();

const questionSchema = z
  .object({
    id: z.string().min(1),
    title: z.string().min(1),
    severity: z.enum(SEVERITIES),
    description: z.string(),
    remediation: z.string(),
    permissions: z.array(permissionSchema).min(1),
    compliance: z.array(z.object({ framework: z.string(), control: z.string() }).strict()).default([]),
  })
  .strict();

export type RbacQuestion = z.infer<typeof questionSchema>;

const QUESTIONS_PATH = fileURLToPath(new URL('../../policies/rbac/questions.yaml', import.meta.url));

export function loadRbacQuestions(path = QUESTIONS_PATH): RbacQuestion[] {
  const doc = parseYaml(readFileSync(path, 'utf8')) as { questions?: unknown };
  const parsed = z.array(questionSchema).safeParse(doc?.questions);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new BulwarkError('PARSE', `${path}: questions.${i.path.join('.')}: ${i.message}`, { subject: path });
  }
  return parsed.data;
}

export interface Subject {
  kind: 'User' | 'Group' | 'ServiceAccount';
  name: string;
  namespace?: string;
}

/** One way a subject got a permission: the binding, the role, and where it applies. */
export interface Grant {
  binding: { kind: string; name: string; namespace?: string };
  role: { kind: string; name: string };
  /** Namespace the grant applies in; undefined = cluster-wide. */
  namespace?: string;
  rule: PolicyRule;
}

const matches = (list: string[] | undefined, value: string) => !!list && (list.includes('*') || list.includes(value));

/** Resource match as the API server does it: exact, "*", "*\/sub" for any resource's subresource. */
function resourceMatches(list: string[] | undefined, resource: string): boolean {
  if (!list) return false;
  const sub = resource.includes('/') ? resource.slice(resource.indexOf('/')) : undefined;
  return list.some((r) => r === '*' || r === resource || (sub !== undefined && r === `*${sub}`));
}

export function ruleGrants(rule: PolicyRule, p: z.infer<typeof permissionSchema>): boolean {
  if (p.wildcardOnly) {
    return !!rule.apiGroups?.includes('*') && !!rule.resources?.includes('*') && !!rule.verbs?.includes('*');
  }
  if (rule.nonResourceURLs?.length && !rule.resources?.length) return false;
  return (
    p.apiGroups.some((g) => matches(rule.apiGroups, g)) &&
    p.resources.some((r) => resourceMatches(rule.resources, r)) &&
    p.verbs.some((v) => matches(rule.verbs, v))
  );
}

function selectorMatches(sel: { matchLabels?: Record<string, string> }, labels: Record<string, string> = {}): boolean {
  return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
}

const SYSTEM_SUBJECT = /^system:/;

export interface RbacOptions {
  /** Report built-in system: users, groups and service accounts of kube-system too. */
  includeSystem?: boolean;
  questions?: RbacQuestion[];
}

export interface SubjectAnswer {
  subject: Subject;
  question: RbacQuestion;
  grants: Grant[];
}

/** Resolves bindings to rules per subject and answers every question. */
export function analyzeRbac(objects: K8sObject[], opts: RbacOptions = {}): SubjectAnswer[] {
  const questions = opts.questions ?? loadRbacQuestions();
  const roles = new Map<string, { kind: string; name: string; rules: PolicyRule[] }>();
  const clusterRoles = objects.filter((o) => o.kind === 'ClusterRole');
  for (const o of objects) {
    const name = o.metadata?.name ?? '';
    if (o.kind === 'Role') roles.set(`Role/${o.metadata?.namespace ?? 'default'}/${name}`, { kind: 'Role', name, rules: (o.rules as PolicyRule[]) ?? [] });
    if (o.kind === 'ClusterRole') {
      let rules = (o.rules as PolicyRule[]) ?? [];
      // aggregated roles from manifests: the API server fills the rules in, manifests may not
      const agg = o.aggregationRule as { clusterRoleSelectors?: { matchLabels?: Record<string, string> }[] } | undefined;
      if (agg?.clusterRoleSelectors?.length && !rules.length) {
        rules = clusterRoles
          .filter((c) => c !== o && agg.clusterRoleSelectors!.some((s) => selectorMatches(s, c.metadata?.labels)))
          .flatMap((c) => (c.rules as PolicyRule[]) ?? []);
      }
      roles.set(`ClusterRole/${name}`, { kind: 'ClusterRole', name, rules });
    }
  }
  const grants = new Map<string, { subject: Subject; grants: Grant[] }>();
  for (const b of objects) {
    if (b.kind !== 'RoleBinding' && b.kind !== 'ClusterRoleBinding') continue;
    const ns = b.kind === 'RoleBinding' ? (b.metadata?.namespace ?? 'default') : undefined;
    const ref = b.roleRef as { kind?: string; name?: string } | undefined;
    if (!ref?.name) continue;
    const role = ref.kind === 'Role' ? roles.get(`Role/${ns}/${ref.name}`) : roles.get(`ClusterRole/${ref.name}`);
    if (!role) continue; // dangling binding: grants nothing
    for (const s of (b.subjects as { kind?: string; name?: string; namespace?: string }[] | undefined) ?? []) {
      if (!s.name || (s.kind !== 'User' && s.kind !== 'Group' && s.kind !== 'ServiceAccount')) continue;
      const subject: Subject = {
        kind: s.kind,
        name: s.name,
        ...(s.kind === 'ServiceAccount' ? { namespace: s.namespace ?? ns ?? 'default' } : {}),
      };
      const key = `${subject.kind}/${subject.namespace ?? ''}/${subject.name}`;
      const entry = grants.get(key) ?? { subject, grants: [] };
      for (const rule of role.rules) {
        entry.grants.push({
          binding: { kind: b.kind, name: b.metadata?.name ?? '', ...(ns ? { namespace: ns } : {}) },
          role: { kind: role.kind, name: role.name },
          ...(ns ? { namespace: ns } : {}),
          rule,
        });
      }
      grants.set(key, entry);
    }
  }
  const answers: SubjectAnswer[] = [];
  for (const { subject, grants: gs } of grants.values()) {
    if (!opts.includeSystem && isSystemSubject(subject)) continue;
    for (const q of questions) {
      const granting = gs.filter((g) => q.permissions.some((p) => ruleGrants(g.rule, p)));
      if (granting.length) answers.push({ subject, question: q, grants: granting });
    }
  }
  return answers.sort(
    (a, b) =>
      a.question.id.localeCompare(b.question.id) ||
      subjectLabel(a.subject).localeCompare(subjectLabel(b.subject)),
  );
}

function isSystemSubject(s: Subject): boolean {
  return SYSTEM_SUBJECT.test(s.name) || (s.kind === 'ServiceAccount' && s.namespace === 'kube-system');
}

export function subjectLabel(s: Subject): string {
  return s.kind === 'ServiceAccount' ? `ServiceAccount ${s.namespace}/${s.name}` : `${s.kind} ${s.name}`;
}

function grantLabel(g: Grant): string {
  const where = g.namespace ? `in namespace ${g.namespace}` : 'cluster-wide';
  const names = g.rule.resourceNames?.length ? ` (only ${g.rule.resourceNames.join(', ')})` : '';
  return `${g.role.kind} ${g.role.name} via ${g.binding.kind} ${g.binding.namespace ? g.binding.namespace + '/' : ''}${g.binding.name} ${where}${names}`;
}

/** Findings for the answers: one per subject and question, naming the roles and bindings that grant it. */
export function rbacFindings(answers: SubjectAnswer[]): MisconfigFinding[] {
  return answers.map(({ subject, question: q, grants }) => {
    const unique = [...new Set(grants.map(grantLabel))];
    return {
      kind: 'misconfig',
      type: 'rbac',
      id: q.id,
      title: `${subjectLabel(subject)}: ${q.title.charAt(0).toLowerCase()}${q.title.slice(1)}`,
      severity: q.severity,
      status: 'fail',
      description: q.description,
      remediation: q.remediation,
      message: `granted by ${unique.join('; ')}`,
      resource: { kind: subject.kind, name: subject.name, ...(subject.namespace ? { namespace: subject.namespace } : {}) },
      location: { path: `rbac/${subject.kind}/${subject.namespace ? subject.namespace + '/' : ''}${subject.name}` },
      compliance: q.compliance,
    };
  });
}
