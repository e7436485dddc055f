/**
 * CIS host and node benchmarks (CIS Docker 1.6.0, CIS Kubernetes worker node): checks as YAML data
 * in kube-bench's format with declarative audit sources, fact collectors, a pure evaluator, reports.
 */
export type * from './types.js';
export {
  compareOp,
  executeTests,
  executeItem,
  runCheck,
  evaluateCheck,
  evaluateBenchmark,
  auditSources,
  findFlag,
  substitute,
  clearEvaluatorCaches,
} from './evaluator.js';
export { executeJsonPath } from './jsonpath.js';
export {
  collectFacts,
  deriveContainerFacts,
  hostSource,
  resolveVariables,
  HostView,
  argvFlag,
  type CollectOptions,
} from './collect.js';
export { dockerApi, type DockerApi } from './docker-api.js';
export {
  parseBenchmark,
  loadBuiltinBenchmark,
  loadBenchmarkFile,
  benchmarkVersions,
  CIS_DIR,
} from './load.js';
export { convertNode, convertVersion, convertAudit } from './kube-bench.js';
export { renderTable, renderJson, renderHtml, complianceOf, type BenchCompliance } from './report.js';
