/**
 * A profile's syscalls as an OCI / Kubernetes seccomp profile (the JSON runc, containerd, CRI-O
 * and the kubelet's `seccompProfile: {type: Localhost, localhostProfile: …}` take): every syscall
 * the workload was seen to use is allowed, everything else fails with EPERM.
 *
 * The sensor learns x86_64 syscall numbers, so the profile names the x86_64 ABI only; a 32-bit
 * (x86 or x32) syscall from such a workload is refused as a foreign architecture, which is what a
 * workload that never made one should get.
 */
import type { Profile } from './model.js';
import { X86_64_SYSCALLS } from '../scap/syscalls.js';

export interface SeccompProfile {
  defaultAction: 'SCMP_ACT_ERRNO';
  defaultErrnoRet: number;
  architectures: string[];
  syscalls: { names: string[]; action: 'SCMP_ACT_ALLOW' }[];
}

const EPERM = 1;
const KNOWN = new Set(Object.values(X86_64_SYSCALLS));

/**
 * Syscalls a process cannot start without under runc once the filter is in place (runc applies
 * it right before execve of the entrypoint, and must still make these calls), added even when the
 * sensor missed them (it only sees what ran after it started).
 */
export const SECCOMP_BASELINE = ['execve', 'exit', 'exit_group', 'futex', 'rt_sigreturn'];

/**
 * Syscalls the OCI runtime makes in the container's cgroup before the entrypoint only some of the
 * times (the sensor's syscall set is per cgroup, so runc init's calls are in it): measured with
 * runc 1.1.5 on /bin/true containers, 15 runs — every other call of runc init was there every
 * time, so discover learns it; these five came in 2 to 6 runs of 14 (Go runtime preemption and
 * signals, runc's binary clone). A workload using one that was not learned is not reported as a
 * syscall deviation (it is still learned, and still allowed by the seccomp export only if learned).
 */
export const RUNTIME_NOISE_SYSCALLS: ReadonlySet<string> = new Set([
  'execveat',
  'rt_sigreturn',
  'sched_yield',
  'tgkill',
  'unlink',
]);

/** x86_64 syscall numbers → names; a number the table does not know is kept as its decimal string. */
export function syscallNames(nrs: Iterable<number>): string[] {
  return [...new Set([...nrs].map((n) => X86_64_SYSCALLS[n] ?? String(n)))].sort();
}

export interface SeccompExport {
  profile: SeccompProfile;
  /** entries of the profile that no seccomp filter can name (unknown numbers or names) */
  skipped: string[];
}

/** The seccomp profile allowing exactly the profile's syscalls (plus SECCOMP_BASELINE). */
export function toSeccomp(p: Profile, opts: { baseline?: boolean } = {}): SeccompExport {
  const names = new Set<string>();
  const skipped: string[] = [];
  for (const s of p.syscalls) {
    if (KNOWN.has(s)) names.add(s);
    else skipped.push(s);
  }
  if (opts.baseline !== false) for (const s of SECCOMP_BASELINE) names.add(s);
  return {
    profile: {
      defaultAction: 'SCMP_ACT_ERRNO',
      defaultErrnoRet: EPERM,
      architectures: ['SCMP_ARCH_X86_64'],
      syscalls: [{ names: [...names].sort(), action: 'SCMP_ACT_ALLOW' }],
    },
    skipped: skipped.sort(),
  };
}
