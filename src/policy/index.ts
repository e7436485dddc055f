/**
 * Policy engine: checks as YAML data with CEL expressions, compiled once and evaluated side-effect
 * free over any resource adapted to `PolicyInput`; compliance frameworks and reports.
 */
export type { CheckSpec, CompiledCheck, PathSeg, PolicyInput, Scope, ScopeItem } from './types.js';
export { SCOPES } from './types.js';
export { loadChecks, loadCheckText, builtinPolicyDir, WORKLOAD_KINDS, type LoadOptions } from './load.js';
export { CheckSet, evaluate, type EvaluateOptions, type EvaluateResult } from './engine.js';
export { formatFieldPath, parseFieldPath } from './path.js';
export {
  loadFrameworks,
  getFramework,
  parseFramework,
  controlChecks,
  complianceReport,
  frameworkCheckIds,
  type Framework,
  type FrameworkControl,
  type ComplianceReport,
  type ControlResult,
  type ControlStatus,
  type ComplianceInput,
} from './frameworks.js';
export { renderComplianceHtml, controlAnchor } from './report/html.js';
export { renderComplianceTable } from './report/table.js';
export {
  analyzeRbac,
  renderRbacTable,
  subjectLabel,
  RBAC_CAPABILITIES,
  CAPABILITY_TITLES,
  type RbacAnalysis,
  type RbacCapability,
  type RbacGrant,
  type RbacSubject,
  type RbacSubjectReport,
} from './rbac.js';
