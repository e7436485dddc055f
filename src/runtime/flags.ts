/** libscap's portable flag values (PPM_*), as they appear in event parameters. */

export const PPM_O_RDONLY = 1 << 0;
export const PPM_O_WRONLY = 1 << 1;
export const PPM_O_RDWR = PPM_O_RDONLY | PPM_O_WRONLY;
export const PPM_O_CREAT = 1 << 2;
export const PPM_O_APPEND = 1 << 3;
export const PPM_O_DSYNC = 1 << 4;
export const PPM_O_EXCL = 1 << 5;
export const PPM_O_NONBLOCK = 1 << 6;
export const PPM_O_SYNC = 1 << 7;
export const PPM_O_TRUNC = 1 << 8;
export const PPM_O_DIRECT = 1 << 9;
export const PPM_O_DIRECTORY = 1 << 10;
export const PPM_O_LARGEFILE = 1 << 11;
export const PPM_O_CLOEXEC = 1 << 12;
export const PPM_O_TMPFILE = 1 << 13;
export const PPM_O_F_CREATED = 1 << 14;

export const PPM_CL_CLONE_FILES = 1 << 0;
export const PPM_CL_CLONE_FS = 1 << 1;
export const PPM_CL_CLONE_THREAD = 1 << 11;
export const PPM_CL_CLONE_NEWPID = 1 << 9;
export const PPM_CL_CHILD_IN_PIDNS = 1 << 13;

/** execve exit `flags` (PPM_EXE_*) */
export const PPM_EXE_WRITABLE = 1 << 0;
export const PPM_EXE_UPPER_LAYER = 1 << 1;
export const PPM_EXE_FROM_MEMFD = 1 << 2;
export const PPM_EXE_LOWER_LAYER = 1 << 3;

/** socket families (PPM_AF_*) */
export const PPM_AF_UNIX = 1;
export const PPM_AF_INET = 2;
export const PPM_AF_INET6 = 10;

/** Linux capability names by number (linux/capability.h), as thread.cap_* renders them. */
export const CAP_NAMES = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
] as const;

/**
 * A capability set (bit n = capability n) as libsinsp renders thread.cap_*: the names of the
 * set bits in number order, space-separated ("" for none); bits without a name are left out.
 */
export function capsToString(mask: number | bigint): string {
  const m = BigInt(mask);
  const out: string[] = [];
  for (let i = 0; i < CAP_NAMES.length; i++) if ((m >> BigInt(i)) & 1n) out.push(CAP_NAMES[i]!);
  return out.join(' ');
}
