/**
 * Live cluster reading and RBAC analysis for `bulwark scan cluster` (and RBAC in manifests).
 */
export { readCluster, CLUSTER_KINDS, type ClusterOptions, type ClusterSnapshot } from './client.js';
export {
  analyzeRbac,
  rbacFindings,
  loadRbacQuestions,
  ruleGrants,
  subjectLabel,
  type RbacQuestion,
  type RbacOptions,
  type SubjectAnswer,
  type Subject,
  type Grant,
  type K8sObject,
  type PolicyRule,
} from './rbac.js';
