/**
 * Behaviour profiles (#10): what one workload normally does — executables, directories written,
 * outbound and listening endpoints, syscalls — and the mode the agent holds it in:
 *   discover  learn: every new behaviour is added to the profile
 *   monitor   each deviation from the profile becomes an event; nothing is blocked
 *   protect   deviations are blocked where the agent can block them (exec, through the execguard
 *             helper's fanotify permission events) and reported as events
 *
 * A workload is a Kubernetes pod controller's container (namespace + controller + container name)
 * or, outside Kubernetes, an image (digest, else reference) + container name: every replica of a
 * workload shares one profile.
 */
import type { ContainerInfo } from '../state/index.js';

export type ProfileMode = 'discover' | 'monitor' | 'protect';
export const PROFILE_MODES: readonly ProfileMode[] = ['discover', 'monitor', 'protect'];

export interface WorkloadRef {
  /** container name (Kubernetes container name, or the runtime's container name) */
  container: string;
  /** Kubernetes namespace (pod workloads) */
  namespace?: string;
  /** pod controller as kind/name ("deployment/web", "statefulset/db", "pod/debug") */
  controller?: string;
  /** image reference */
  image?: string;
  /** image manifest or config digest (sha256:…) */
  imageDigest?: string;
}

export interface ExecutableEntry {
  /** resolved path inside the container (symlinks followed) */
  path: string;
  /** paths it was exec'd as that resolve to it (/bin/sh for /usr/bin/dash): how it is known when it cannot be resolved */
  aliases?: string[];
  /** sha256 of the file, hex; absent when it could not be read while learning */
  sha256?: string;
  /** resolved paths of the parent processes that ran it ("*" allows any) */
  parents: string[];
  /** uids it ran as */
  uids: number[];
}

export interface Profile {
  workload: WorkloadRef;
  mode: ProfileMode;
  /** only executables of the image's own layers may run (never one written into the container) */
  zeroDrift: boolean;
  executables: ExecutableEntry[];
  /** directories files were written in; an entry ending in "/**" covers its whole subtree */
  filesWritten: string[];
  /** "tcp/10.0.0.5:5432", "udp/[fd00::1]:53", "unix:/run/x.sock"; "*" for any address or port */
  outbound: string[];
  /** "tcp/0.0.0.0:8080", "tcp/[::]:443" */
  listening: string[];
  /** syscall names (x86_64); numbers the name table does not know are kept as decimal strings */
  syscalls: string[];
  /** when learning started and last added something (ISO 8601) */
  learnedSince?: string;
  updated?: string;
}

export type DeviationWhat = 'exe' | 'file' | 'network' | 'syscall';

export interface Deviation {
  what: DeviationWhat;
  /** the value that is not in the profile (exe path, file path, endpoint, syscall name) */
  value: string;
  /** why, when it is more than "not in the profile": "sha256", "parent", "uid", "drift", "listen" */
  reason?: string;
}

/** An empty profile for a workload (mode discover). */
export function emptyProfile(workload: WorkloadRef, now = new Date()): Profile {
  return {
    workload,
    mode: 'discover',
    zeroDrift: false,
    executables: [],
    filesWritten: [],
    outbound: [],
    listening: [],
    syscalls: [],
    learnedSince: now.toISOString(),
  };
}

/**
 * The pod controller of a pod, from its name and labels as the controllers name pods:
 * Deployment pods `<name>-<pod-template-hash>-<5>`, StatefulSet `<name>-<ordinal>`, DaemonSet and
 * Job `<name>-<5>`; a pod without such labels is its own controller ("pod/<name>").
 */
export function podController(pod: string, labels: Record<string, string> = {}): string {
  const hash = labels['pod-template-hash'];
  if (hash && pod.includes(`-${hash}-`)) return `deployment/${pod.slice(0, pod.lastIndexOf(`-${hash}-`))}`;
  if (labels['statefulset.kubernetes.io/pod-name'] && /-\d+$/.test(pod))
    return `statefulset/${pod.replace(/-\d+$/, '')}`;
  if (labels['job-name']) return `job/${labels['job-name']}`;
  if (labels['controller-revision-hash'] && /-[a-z0-9]{5}$/.test(pod))
    return `daemonset/${pod.replace(/-[a-z0-9]{5}$/, '')}`;
  return `pod/${pod}`;
}

/**
 * The workload a container belongs to; undefined when the runtime gave no name for it (a bare
 * container id is no workload: nothing learned from it could be applied to its next run).
 */
export function workloadOf(c: ContainerInfo): WorkloadRef | undefined {
  if (!c.name) return undefined;
  if (c.k8s?.namespace && c.k8s.podName)
    return {
      container: c.name,
      namespace: c.k8s.namespace,
      controller: podController(c.k8s.podName, c.k8s.labels),
    };
  const w: WorkloadRef = { container: c.name };
  if (c.image) w.image = c.image;
  if (c.imageDigest) w.imageDigest = c.imageDigest;
  return w;
}

/** The workload's stable id: "k8s:<ns>/<kind>/<name>:<container>" or "image:<digest|ref>:<container>". */
export function workloadId(w: WorkloadRef): string {
  if (w.namespace && w.controller) return `k8s:${w.namespace}/${w.controller}:${w.container}`;
  return `image:${w.imageDigest ?? w.image ?? '-'}:${w.container}`;
}

/** A file name for the workload's profile: its id with everything but [A-Za-z0-9._-] as "_". */
export function profileFileName(w: WorkloadRef): string {
  const id = workloadId(w);
  let s = id.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+/, '');
  if (s.length > 200) s = s.slice(0, 200);
  return `${s}.yaml`;
}
