/**
 * Behaviour profiles (#10): per-workload baselines learned from the runtime event stream
 * (discover), checked in monitor and protect modes, stored as reviewable YAML, exported as
 * seccomp profiles, and enforced before exec by the execguard helper (native/execguard).
 */
export {
  emptyProfile,
  podController,
  profileFileName,
  workloadId,
  workloadOf,
  PROFILE_MODES,
  type Deviation,
  type DeviationWhat,
  type ExecutableEntry,
  type Profile,
  type ProfileMode,
  type WorkloadRef,
} from './model.js';
export {
  isEndpoint,
  mergeProfiles,
  normalizeProfile,
  parseProfile,
  profileToYaml,
  ProfileError,
  PROFILE_API_VERSION,
  PROFILE_KIND,
  type ProfileIssue,
} from './yaml.js';
export {
  toSeccomp,
  syscallNames,
  SECCOMP_BASELINE,
  RUNTIME_NOISE_SYSCALLS,
  type SeccompProfile,
  type SeccompExport,
} from './seccomp.js';
export {
  ProfileEngine,
  resolveInRoot,
  endpointAllowed,
  endpointOf,
  dirAllowed,
  type DeviationRecord,
  type EngineOptions,
} from './engine.js';
export { loadProfileDir, writeProfile, findProfile, type LoadedProfiles } from './store.js';
export { X86_64_SYSCALLS } from '../scap/syscalls.js';
export { deviationEvent, deviationText, type DeviationEvent } from './events.js';
export {
  ExecGuard,
  defaultExecGuardBinary,
  execGuardBuildScript,
  type ExecGuardOptions,
  type GuardDenial,
  type GuardStats,
} from './guard.js';
export { ProfileRuntime, type ProfileRuntimeOptions } from './runtime.js';
