/**
 * Misconfiguration scanning: finds and parses configuration files (Kubernetes manifests, Helm or
 * Kustomize output on stdin, docker-compose files, Dockerfiles) and image configs, and evaluates the
 * policy checks over them.
 */
export {
  configTypeOfName,
  sniffConfigType,
  configInputs,
  scanConfigPaths,
  scanImageConfig,
  misconfigAnalyzer,
  MAX_CONFIG_BYTES,
  type ConfigFileType,
  type ConfigScanTarget,
  type ConfigScanResult,
  type ConfigScanOptions,
} from './scan.js';
export { parseDockerfile, splitShellCommands, substitute, splitImageRef } from './dockerfile.js';
export type { Dockerfile, DockerInstruction, DockerStage, Heredoc } from './dockerfile.js';
export { parseManifests, kubernetesInput, isKubernetesObject, locateInYaml } from './kubernetes.js';
export { composeInputs, dockerfileInput, imageConfigInput } from './inputs.js';
export { scanner, misconfigScanner } from './plugin.js';
export { readCluster, clusterInputs, type ClusterOptions, type ClusterSnapshot } from './cluster.js';
