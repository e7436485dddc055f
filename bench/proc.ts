/** A process's resource use from /proc, for the benchmarks that measure another process. */
import { readFileSync } from 'node:fs';

/** user and system CPU seconds of a process (utime, stime of /proc/PID/stat; 100 Hz ticks) */
export function procUserSys(pid: number): [number, number] {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return [Number(rest[11]) / 100, Number(rest[12]) / 100];
}

/** CPU seconds (user + system) of a process */
export function procCpu(pid: number): number {
  const [u, s] = procUserSys(pid);
  return u + s;
}

/** resident memory of a process, MB */
export function procRssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : 0;
}
