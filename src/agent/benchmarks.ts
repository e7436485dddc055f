/**
 * CIS benchmarks on a schedule (#14): `bulwark agent --benchmark docker,k8s-node` runs each
 * benchmark shortly after start and then every `--benchmark-interval` (default 24 h), one at a
 * time, each in a child process (./benchmark-child.ts: file and /proc reads are synchronous and the
 * Docker socket can hang; the agent's event loop keeps processing kernel events, and a run past its
 * timeout is killed). Each run becomes one `kind: 'benchmark'` item for the shipper's disk buffer:
 * the report `bulwark benchmark <target> -f json` prints, with the node, cluster, benchmark id and
 * version, time, totals and the checks' compliance references. A run that fails — unreadable root,
 * no Docker Engine API, no kubelet, a crash or timeout — is sent as `status: 'error'` with the
 * reason (and the partial report when there is one), never skipped.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchmarkReport, ComplianceRef } from '../cis/index.js';

export const BENCHMARK_TARGETS = ['docker', 'k8s-node'] as const;
export type BenchmarkTarget = (typeof BENCHMARK_TARGETS)[number];

/** What one run needs: the target and the options `bulwark benchmark` takes on a node. */
export interface BenchmarkChildSpec {
  target: BenchmarkTarget;
  /** the host's root (default /) */
  root?: string;
  /** docker: the Docker Engine API (default unix://<root>/var/run/docker.sock) */
  dockerHost?: string;
  /** k8s-node: cis-1.5 ... cis-1.24 (default cis-1.9); docker: cis-docker-1.6.0 */
  version?: string;
}

/** One run's result as the console stores it (POST /api/runtime/events, kind 'benchmark'). */
export interface BenchmarkRunEvent {
  id: string;
  kind: 'benchmark';
  time: string;
  node: string;
  cluster?: string;
  benchmark: {
    target: BenchmarkTarget;
    /** the definition's id (cis-docker-1.6.0, cis-1.9), or the version asked for when the run failed before loading it */
    id: string;
    version?: string;
    title?: string;
    status: 'ok' | 'error';
    error?: string;
    /** when the run started, and how long it took */
    startedAt: string;
    durationMs: number;
    /** seconds until the next run (the console marks a result stale after two) */
    intervalSeconds: number;
    root: string;
    totals?: BenchmarkReport['totals'];
    /** as `bulwark benchmark <target> -f json` prints it */
    report?: BenchmarkReport;
    /** check id → the compliance controls the benchmark definition maps it to */
    compliance?: Record<string, ComplianceRef[]>;
  };
}

export interface BenchmarkChildResult {
  report: BenchmarkReport;
  compliance: Record<string, ComplianceRef[]>;
  /** the run completed but what it is about could not be looked at */
  error?: string;
}

/** Runs one benchmark; rejects with the reason when there is no report at all. */
export type BenchmarkRunner = (
  spec: BenchmarkChildSpec,
  signal: AbortSignal,
) => Promise<BenchmarkChildResult>;

/** The child script next to this module (src/agent under tsx, dist/agent; from the bundle, dist/agent). */
export function benchmarkChildScript(): string {
  const here = import.meta.url;
  const ext = here.endsWith('.ts') ? '.ts' : '.js';
  for (const rel of [`./benchmark-child${ext}`, `../agent/benchmark-child${ext}`]) {
    const p = fileURLToPath(new URL(rel, here));
    if (existsSync(p)) return p;
  }
  throw new Error(`the benchmark child script (benchmark-child${ext}) is not next to ${fileURLToPath(here)}`);
}

/** This process's Node options that the child needs too (a loader such as tsx), without -e/-p scripts. */
function childExecArgv(): string[] {
  const out: string[] = [];
  const a = process.execArgv;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x === '-e' || x === '--eval' || x === '-p' || x === '--print') {
      i++;
      continue;
    }
    if (/^(-e|--eval|-p|--print)=/.test(x) || x === '--test' || x.startsWith('--test-')) continue;
    if (x === '--import' || x === '--require' || x === '-r' || x === '--loader') {
      out.push(x, a[++i]!);
      continue;
    }
    if (/^--(import|require|loader|conditions|experimental-[\w-]+|no-warnings|max-old-space-size)/.test(x))
      out.push(x);
  }
  return out;
}

/** The default runner: `node benchmark-child.js SPEC` with a bounded output, killed on abort. */
export function childProcessRunner(opts: { maxBytes?: number } = {}): BenchmarkRunner {
  const max = opts.maxBytes ?? 64 * 2 ** 20;
  return (spec, signal) =>
    new Promise((resolve, reject) => {
      let script: string;
      try {
        script = benchmarkChildScript();
      } catch (e) {
        reject(e as Error);
        return;
      }
      const child = spawn(process.execPath, [...childExecArgv(), script, JSON.stringify(spec)], {
        stdio: ['ignore', 'pipe', 'pipe'],
        env: process.env,
      });
      const out: Buffer[] = [];
      let size = 0;
      let err = '';
      let killed = '';
      const kill = (why: string) => {
        if (killed) return;
        killed = why;
        child.kill('SIGKILL');
      };
      const onAbort = () => kill(String(signal.reason ?? 'aborted'));
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      child.stdout.on('data', (d: Buffer) => {
        size += d.length;
        if (size > max) kill(`its report is larger than ${max} bytes`);
        else out.push(d);
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        if (err.length < 8192) err += d;
      });
      child.once('error', (e) => {
        signal.removeEventListener('abort', onAbort);
        reject(new Error(`cannot start the benchmark: ${e.message}`));
      });
      child.once('close', (code, sig) => {
        signal.removeEventListener('abort', onAbort);
        if (killed) return reject(new Error(`benchmark stopped: ${killed}`));
        if (code !== 0)
          return reject(
            new Error(err.trim().split('\n').slice(-3).join('; ') || `benchmark exited ${code ?? sig}`),
          );
        try {
          resolve(JSON.parse(Buffer.concat(out).toString('utf8')) as BenchmarkChildResult);
        } catch (e) {
          reject(new Error(`unreadable benchmark output: ${(e as Error).message}`));
        }
      });
    });
}

export interface BenchmarkSchedulerOptions {
  benchmarks: BenchmarkChildSpec[];
  /** between the starts of two rounds (default 24 h) */
  intervalMs?: number;
  /** before the first round (default 5 s: shortly after start, once the agent is attached) */
  firstDelayMs?: number;
  /** a run longer than this is killed and reported as failed (default 10 min) */
  timeoutMs?: number;
  node: string;
  cluster?: string;
  /** event ids: `<idPrefix>:benchmark:<target>:<n>` (the agent's run id: unique across restarts) */
  idPrefix: string;
  enqueue: (evs: BenchmarkRunEvent[]) => void;
  runner?: BenchmarkRunner;
  onInfo?: (msg: string) => void;
  now?: () => Date;
}

/** Parses `--benchmark docker,k8s-node` (repeatable); throws on an unknown target or a repeat. */
export function parseBenchmarkTargets(values: string[]): BenchmarkTarget[] {
  const out: BenchmarkTarget[] = [];
  for (const v of values
    .flatMap((x) => x.split(','))
    .map((x) => x.trim())
    .filter(Boolean)) {
    if (!(BENCHMARK_TARGETS as readonly string[]).includes(v))
      throw new Error(`--benchmark: unknown benchmark "${v}" (expected ${BENCHMARK_TARGETS.join(', ')})`);
    if (!out.includes(v as BenchmarkTarget)) out.push(v as BenchmarkTarget);
  }
  return out;
}

/** Parses a duration: `90s`, `30m`, `6h`, `1d`, `1h30m`, or plain seconds. */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  let ms = 0;
  let m: RegExpExecArray | null;
  let end = 0;
  while ((m = re.exec(t))) {
    ms += Number(m[1]) * unit[m[2]!]!;
    end = re.lastIndex;
  }
  if (!t || end !== t.length || !(ms > 0)) throw new Error(`not a duration: "${s}" (e.g. 24h, 30m, 90s)`);
  return ms;
}

/** Runs the node's benchmarks on a schedule and queues each result. */
export class BenchmarkScheduler {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private abort: AbortController | undefined;
  private stopped = false;
  private seq = 0;
  readonly counters = { runs: 0, ok: 0, failed: 0 };

  constructor(private readonly o: BenchmarkSchedulerOptions) {}

  private get intervalMs(): number {
    return this.o.intervalMs ?? 86_400_000;
  }

  start(): void {
    this.schedule(this.o.firstDelayMs ?? 5000);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      const t0 = Date.now();
      void this.runAll().then(() => this.schedule(Math.max(0, this.intervalMs - (Date.now() - t0))));
    }, ms);
    this.timer.unref?.();
  }

  /** One round: every benchmark once, in order (resolves when all are queued). */
  runAll(): Promise<void> {
    if (this.running) return this.running;
    this.running = (async () => {
      try {
        for (const b of this.o.benchmarks) {
          if (this.stopped) return;
          const ev = await this.runOne(b);
          // a run cut short because the agent stops is not a result of the node: the next start runs it
          if (this.stopped) return;
          this.o.enqueue([ev]);
        }
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }

  /** Runs one benchmark and returns its event (a failure is an event too). */
  async runOne(spec: BenchmarkChildSpec): Promise<BenchmarkRunEvent> {
    const now = this.o.now ?? (() => new Date());
    const started = now();
    const t0 = performance.now();
    this.abort = new AbortController();
    const timeoutMs = this.o.timeoutMs ?? 600_000;
    const timer = setTimeout(
      () => this.abort?.abort(`it ran longer than ${Math.round(timeoutMs / 1000)} s`),
      timeoutMs,
    );
    const runner = this.o.runner ?? childProcessRunner();
    let r: BenchmarkChildResult | undefined;
    let error: string | undefined;
    try {
      r = await runner(spec, this.abort.signal);
      error = r.error;
    } catch (e) {
      error = (e as Error).message || String(e);
    } finally {
      clearTimeout(timer);
      this.abort = undefined;
    }
    const durationMs = Math.round(performance.now() - t0);
    this.counters.runs++;
    if (error) this.counters.failed++;
    else this.counters.ok++;
    const rep = r?.report;
    const ev: BenchmarkRunEvent = {
      id: `${this.o.idPrefix}:benchmark:${spec.target}:${++this.seq}`,
      kind: 'benchmark',
      time: now().toISOString(),
      node: this.o.node,
      ...(this.o.cluster ? { cluster: this.o.cluster } : {}),
      benchmark: {
        target: spec.target,
        id: rep?.benchmark.id ?? spec.version ?? spec.target,
        ...((rep?.benchmark.version ?? spec.version)
          ? { version: rep?.benchmark.version ?? spec.version }
          : {}),
        ...(rep?.benchmark.title ? { title: rep.benchmark.title } : {}),
        status: error ? 'error' : 'ok',
        ...(error ? { error: error.slice(0, 2000) } : {}),
        startedAt: started.toISOString(),
        durationMs,
        intervalSeconds: Math.max(1, Math.round(this.intervalMs / 1000)),
        root: rep?.root ?? spec.root ?? '/',
        ...(rep ? { totals: rep.totals, report: rep, compliance: r!.compliance } : {}),
      },
    };
    const t = rep?.totals;
    this.o.onInfo?.(
      `benchmark ${spec.target}${error ? ` failed: ${error}` : ''}${t ? ` — PASS ${t.pass}, FAIL ${t.fail}, WARN ${t.warn}, INFO ${t.info}` : ''} (${durationMs} ms)`,
    );
    return ev;
  }

  /** Stops the schedule and kills a run in progress (not reported: the next start runs it again). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.abort?.abort('the agent stopped');
    await this.running?.catch(() => {});
  }
}
