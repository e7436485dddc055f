/**
 * One agent process of bench/bus.bench.ts: the real Shipper with --nats (disk buffer included)
 * publishing BENCH_COUNT alerts, in bursts of 100, at BENCH_RATE events/s (0: as fast as it can);
 * each alert's `time` is when it was handed to the shipper. Prints {"sent": N} when drained.
 */
import { Shipper, type RuntimeEvent } from '../src/agent/index.js';

const agent = Number(process.env.BENCH_AGENT);
const count = Number(process.env.BENCH_COUNT);
const rate = Number(process.env.BENCH_RATE ?? 0);
const phase = process.env.BENCH_PHASE ?? 'p';

function alert(i: number, time: string): RuntimeEvent {
  return {
    id: `bench-${phase}-${agent}:${i}`,
    kind: 'alert',
    time,
    node: `node-${agent}`,
    cluster: 'bench',
    rule: i % 7 === 0 ? 'Terminal shell in container' : 'Read sensitive file untrusted',
    priority: i % 7 === 0 ? 'Notice' : 'Warning',
    source: 'syscall',
    output: `Sensitive file opened for reading by non-trusted program (file=/etc/shadow gparent=bash ggparent=sshd evt_type=openat user=root user_uid=0 process=cat proc_exepath=/usr/bin/cat parent=bash command=cat /etc/shadow terminal=34816 container_id=c${agent} container_name=web)`,
    output_fields: {
      'fd.name': '/etc/shadow',
      'proc.name': 'cat',
      'proc.cmdline': 'cat /etc/shadow',
      'proc.pname': 'bash',
      'user.name': 'root',
      'container.id': `c${agent}`,
      n: i,
    },
    tags: ['T1555', 'container', 'filesystem', 'host', 'maturity_stable', 'mitre_credential_access'],
    container: { id: `c${agent}`.padEnd(64, '0'), name: 'web', image: 'registry.example/shop:1.4' },
    k8s: { namespace: 'shop', pod: `web-${agent}` },
  };
}

const s = new Shipper({
  nats: process.env.BENCH_NATS!,
  natsAuth: process.env.BENCH_NATS_AUTH,
  bufferDir: process.env.BENCH_BUFFER!,
  batchMax: 500,
  onWarn: (m) => process.stderr.write(`agent ${agent}: ${m}\n`),
});
s.start();
const t0 = performance.now();
for (let i = 0; i < count; i += 100) {
  if (rate > 0) {
    const due = t0 + (i / rate) * 1000;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  const time = new Date().toISOString();
  s.enqueue(Array.from({ length: Math.min(100, count - i) }, (_, k) => alert(i + k, time)));
  if (rate === 0 && i % 2000 === 0) await new Promise((r) => setImmediate(r));
}
while (!s.drained) await new Promise((r) => setTimeout(r, 10));
await s.stop(0);
process.stdout.write(JSON.stringify({ sent: s.stats.sent }) + '\n');
