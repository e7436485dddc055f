/**
 * Flows from the runtime sensor's socket events (src/runtime: connect and accept exits with the
 * socket tuple the kernel saw, and the container id the sensor attributed): a connect is the
 * client's side (local → remote), an accept the server's (peer → local). Fed to a FlowAggregator
 * with conntrack records of the same connections, a 5-tuple seen by both counts once.
 */
import type { SockTuple, SyscallEvent } from '../runtime/event.js';
import type { FlowProtocol, FlowRecord } from './flow.js';

const EINPROGRESS = -115;

export interface SensorFlowOptions {
  /**
   * The L4 protocol of the event's socket (the state tracker knows the fd's type); without it,
   * accept is TCP and connect is TCP (a connected UDP socket needs this to be told apart).
   */
  protocolOf?(ev: SyscallEvent): FlowProtocol | undefined;
}

function isTuple(v: unknown): v is SockTuple {
  return (
    typeof v === 'object' && v !== null && 'family' in v && !(v instanceof Uint8Array) && !Array.isArray(v)
  );
}

let lastMs = -1;
let lastIso = '';
/** ISO text of a millisecond time; consecutive events share it (ns → ms needs no BigInt division) */
function isoMs(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/** The flow a sensor event opens, or undefined (other events, failed connects, unix sockets). */
export function fromSyscallEvent(ev: SyscallEvent, opts: SensorFlowOptions = {}): FlowRecord | undefined {
  if (ev.dir !== '<') return undefined;
  const accept = ev.type === 'accept' || ev.type === 'accept4';
  if (!accept && ev.type !== 'connect') return undefined;
  const t = ev.params.tuple;
  if (!isTuple(t) || (t.family !== 'inet' && t.family !== 'inet6') || !t.sip || !t.dip || !t.dport)
    return undefined;
  if (accept) {
    const fd = ev.params.fd;
    if (typeof fd !== 'number' || fd < 0) return undefined;
  } else {
    const res = ev.params.res;
    if (typeof res !== 'number' || (res !== 0 && res !== EINPROGRESS)) return undefined;
  }
  const protocol = opts.protocolOf?.(ev) ?? 'TCP';
  const time = isoMs(Math.floor(Number(ev.ts) / 1e6));
  const container = ev.containerId && ev.containerId !== 'host' ? { containerId: ev.containerId } : {};
  // the tuple is source → destination as the kernel saw it: for connect local → remote, for accept peer → local
  return {
    source: { labels: {}, ip: t.sip, ...(t.sport ? { port: t.sport } : {}), ...(accept ? {} : container) },
    destination: { labels: {}, ip: t.dip, port: t.dport, ...(accept ? container : {}) },
    protocol,
    port: t.dport,
    verdict: 'FORWARDED',
    // where it was seen: leaving the client (connect) or arriving at the server (accept)
    trafficDirection: accept ? 'INGRESS' : 'EGRESS',
    count: 1,
    firstSeen: time,
    lastSeen: time,
    observer: 'bulwark',
  };
}
