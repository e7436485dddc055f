/**
 * The node agent's parts above the sensor and the rules engine: container/pod metadata from the
 * OCI runtime's state, the disk buffer and the shipper that delivers runtime events to the console.
 */
export { DiskBuffer, type Batch, type DiskBufferOptions } from './buffer.js';
export {
  Shipper,
  alertEvent,
  processLineage,
  type ProcessNode,
  ensureEventsStream,
  natsCredentials,
  eventSubject,
  subjectToken,
  EVENTS_STREAM,
  EVENTS_SUBJECTS,
  type RuntimeEvent,
  type AgentStatsEvent,
  type ShippedEvent,
  type ShipperOptions,
  type ShipperStats,
} from './shipper.js';
export {
  RuntimeStateResolver,
  DEFAULT_RUNTIME_ROOTS,
  fullContainerIdFromCgroup,
  infoFromAnnotations,
  splitImage,
  type RuntimeResolverOptions,
} from './containers.js';
export { FlowCollector, type FlowCollectorOptions, type FlowEvent } from './flows.js';
export {
  ConsoleControl,
  ControlLoop,
  agentControl,
  ProfileReporter,
  applyCommands,
  profileReport,
  type ConsoleCommands,
  type ConsoleControlOptions,
  type ControlLoopOptions,
  type ControlTarget,
  type ProfileReportEvent,
} from './control.js';
export {
  BenchmarkScheduler,
  BENCHMARK_TARGETS,
  benchmarkChildScript,
  childProcessRunner,
  parseBenchmarkTargets,
  parseDuration,
  type BenchmarkChildResult,
  type BenchmarkChildSpec,
  type BenchmarkRunEvent,
  type BenchmarkRunner,
  type BenchmarkSchedulerOptions,
  type BenchmarkTarget,
} from './benchmarks.js';
