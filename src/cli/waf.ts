/**
 * `bulwark waf`: the layer-7 firewall as a reverse proxy, and `bulwark waf test`, a go-ftw
 * compatible runner of regression tests (in process against rule files, or against a live WAF).
 *
 *   bulwark waf --listen 127.0.0.1:8080 --upstream http://127.0.0.1:3000 --rules /usr/share/modsecurity-crs
 *   bulwark waf test coreruleset/tests/regression/tests --rules coreruleset/rules --paranoia 4
 *   bulwark waf test DIR --target http://127.0.0.1:8080 --log waf.log
 */
import cluster from 'node:cluster';
import { createWriteStream, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { openOutput } from './output.js';
import type { FtwStage, StageResult } from '../waf/ftw.js';

function parseListen(s: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(s);
  if (!m) throw new BulwarkError('USAGE', `--listen: expected HOST:PORT, got ${s}`);
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port: Number(m[3]) };
}

function intOpt(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new BulwarkError('USAGE', `${name}: expected an integer ${min}..${max}, got ${v}`);
  return n;
}

const REGRESSION_SETVARS = [
  'setvar:tx.crs_validate_utf8_encoding=1',
  'setvar:tx.arg_name_length=100',
  'setvar:tx.arg_length=400',
  'setvar:tx.total_arg_length=64000',
  'setvar:tx.max_num_args=255',
  'setvar:tx.max_file_size=64100',
  'setvar:tx.combined_file_sizes=65535',
];

async function loadWafModule() {
  return import('../waf/index.js');
}

export function register(ctx: CliContext): void {
  const waf = ctx.program
    .command('waf')
    .description(
      'layer-7 firewall (OWASP CRS compatible) as a reverse proxy; `waf test` runs go-ftw regression tests',
    )
    .option('--listen <host:port>', 'address to listen on', '127.0.0.1:8080')
    .option('--upstream <url>', 'the protected service, e.g. http://127.0.0.1:3000')
    .option('--rules <path...>', 'rule files or directories (a CRS checkout or its rules/ folder)')
    .option('--paranoia <n>', 'CRS paranoia level 1-4', '1')
    .addOption(
      new Option('--mode <mode>', 'block, or detect (log only)')
        .choices(['block', 'detect'])
        .default('block'),
    )
    .option('--log <file>', 'JSON log line per request (- for stdout)')
    .option('--body-limit <bytes>', 'request body limit (413 above it)')
    .option('--upstream-timeout <ms>', 'upstream response timeout (504 after it)', '30000')
    .option('--marker-header <name>', 'request header copied into the log line (for test harnesses)')
    .option('--workers <n>', 'processes sharing the listening socket (node:cluster)', '1')
    .option('--server <url>', 'report blocked requests to the console (kind waf; a summary, never bodies)')
    .option('--token <token>', 'API token for --server (default: $BULWARK_TOKEN)')
    .option('--service <name>', 'the protected service, as the console shows it (default: the upstream host)')
    .option('--cluster <name>', 'cluster name on the events sent to the console')
    .option('--buffer-dir <dir>', 'disk buffer for --server (default ~/.cache/bulwark/waf-buffer)')
    .action(
      async (o: {
        listen: string;
        upstream?: string;
        rules?: string[];
        paranoia: string;
        mode: 'block' | 'detect';
        log?: string;
        bodyLimit?: string;
        upstreamTimeout: string;
        markerHeader?: string;
        workers: string;
        server?: string;
        token?: string;
        service?: string;
        cluster?: string;
        bufferDir?: string;
      }) => {
        if (!o.upstream) throw new BulwarkError('USAGE', 'waf: --upstream URL is required');
        if (!o.rules?.length) throw new BulwarkError('USAGE', 'waf: --rules DIR|FILE is required');
        try {
          const u = new URL(o.upstream);
          if (u.protocol !== 'http:') throw new Error('only http:// upstreams');
        } catch (e) {
          throw new BulwarkError('USAGE', `--upstream: ${(e as Error).message}`);
        }
        const { host, port } = parseListen(o.listen);
        const paranoia = intOpt('--paranoia', o.paranoia, 1, 4)!;
        const bodyLimit = intOpt('--body-limit', o.bodyLimit, 0, 2 ** 31);
        const upstreamTimeoutMs = intOpt('--upstream-timeout', o.upstreamTimeout, 1, 3600000);
        const workers = intOpt('--workers', o.workers, 1, 256)!;
        for (const r of o.rules)
          if (!existsSync(r))
            throw new BulwarkError('NOT_FOUND', `--rules: ${r}: no such file or directory`, { subject: r });
        if (workers > 1 && cluster.isPrimary) {
          // the primary only supervises: each worker loads the rules and serves on the shared socket
          const logger = ctx.logger();
          const kids = Array.from({ length: workers }, () => cluster.fork());
          logger.info(`waf: ${workers} workers on ${host}:${port}`);
          await new Promise<void>((resolve) => {
            let alive = kids.length;
            cluster.on('exit', () => {
              if (--alive === 0) resolve();
            });
            const stop = () => {
              for (const k of kids) k.process.kill('SIGTERM');
            };
            process.once('SIGINT', stop);
            process.once('SIGTERM', stop);
          });
          return;
        }
        const { createWaf } = await loadWafModule();
        const { createWafProxy } = await import('../waf/proxy.js');
        let w;
        try {
          w = createWaf({ rules: o.rules, paranoia, mode: o.mode });
        } catch (e) {
          throw new BulwarkError('PARSE', (e as Error).message, { cause: e });
        }
        const log =
          o.log === undefined
            ? undefined
            : o.log === '-'
              ? process.stdout
              : createWriteStream(o.log, { flags: 'a' });
        // blocks to the console: through a disk buffer per process, in order
        let shipper: import('../agent/index.js').Shipper | undefined;
        let onBlock: ((rec: import('../waf/proxy.js').WafLogRecord) => void) | undefined;
        if (o.server) {
          const { consoleShipper } = await import('./console-shipper.js');
          const { wafConsoleEvent } = await import('../waf/proxy.js');
          const { homedir, hostname } = await import('node:os');
          const { join } = await import('node:path');
          // one buffer per worker process
          const base = o.bufferDir ?? join(homedir(), '.cache', 'bulwark', 'waf-buffer');
          shipper = await consoleShipper(
            {
              server: o.server,
              token: o.token,
              bufferDir: cluster.isWorker ? join(base, `worker-${cluster.worker!.id}`) : base,
            },
            'waf-buffer',
            (m) => ctx.logger().warn(m),
          );
          const sh = shipper;
          const where = {
            node: hostname(),
            service: o.service ?? new URL(o.upstream).host,
            cluster: o.cluster,
          };
          const run = `waf:${where.node}:${process.pid}:${Date.now().toString(36)}`;
          let n = 0;
          onBlock = (rec) => sh.enqueue([wafConsoleEvent(rec, `${run}:${++n}`, where)]);
        }
        const proxy = createWafProxy({
          onBlock,
          waf: w,
          upstream: o.upstream,
          log,
          bodyLimit,
          upstreamTimeoutMs,
          markerHeader: o.markerHeader,
        });
        const addr = await proxy.listen(host, port);
        const logger = ctx.logger();
        logger.info(
          `waf: ${w.rules.byId.size} rules, paranoia ${paranoia}, ${o.mode}; listening on ${addr.address}:${addr.port} → ${o.upstream}`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => {
            process.off('SIGINT', stop);
            process.off('SIGTERM', stop);
            void proxy.close().then(resolve, resolve);
          };
          process.on('SIGINT', stop);
          process.on('SIGTERM', stop);
        });
        await shipper?.stop(5000);
        if (log && log !== process.stdout)
          await new Promise<void>((r) => (log as ReturnType<typeof createWriteStream>).end(() => r()));
        // a cluster worker's IPC channel would keep it alive
        if (cluster.isWorker) cluster.worker?.disconnect();
      },
    );

  waf
    .command('test')
    .description('run go-ftw YAML regression tests (e.g. the CRS corpus) in process or against a live WAF')
    .argument(
      '<corpus>',
      'directory of go-ftw YAML tests, or a CRS checkout (its tests/regression/tests and rules/)',
    )
    .option('--target <url>', 'send the requests to this WAF instead of evaluating them in process')
    .option('--log <file>', 'with --target: the WAF JSON log to read rule ids from (bulwark waf --log)')
    .option(
      '--marker-header <name>',
      'with --target: header carrying the per-request marker',
      'X-Bulwark-Test',
    )
    .option('--rules <path...>', 'in process: rule files or directories (default: the checkout rules/)')
    .option('--paranoia <n>', 'in process: paranoia level', '4')
    .option('--overrides <file>', 'YAML test_overrides (rule_id, test_ids, reason) to skip')
    .option('--rule <prefix>', 'only tests whose rule id starts with this')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .action(
      async (
        corpus: string,
        so: {
          target?: string;
          log?: string;
          markerHeader: string;
          rules?: string[];
          paranoia: string;
          overrides?: string;
          rule?: string;
          format: 'text' | 'json';
          output?: string;
        },
        cmd: Command,
      ) => {
        // options spelled like the proxy's (--log, --rules, --paranoia, --marker-header) are parsed
        // by the parent command when given after the subcommand: take them from there
        const parent = cmd.parent!;
        const o = { ...so };
        for (const k of ['log', 'rules', 'paranoia', 'markerHeader'] as const)
          if (parent.getOptionValueSource(k) === 'cli')
            (o as Record<string, unknown>)[k] = parent.getOptionValue(k);
        if (!existsSync(corpus))
          throw new BulwarkError('NOT_FOUND', `${corpus}: no such file or directory`, { subject: corpus });
        const m = await loadWafModule();
        let testsDir = corpus;
        let rules = o.rules;
        const sub = join(corpus, 'tests', 'regression', 'tests');
        if (statSync(corpus).isDirectory() && existsSync(sub)) {
          testsDir = sub;
          rules ??= [join(corpus, 'rules')];
        }
        let tests = m.loadFtwTests(testsDir);
        if (o.rule) tests = tests.filter((t) => String(t.ruleId).startsWith(o.rule!));
        const overrides = o.overrides ? m.loadOverrides(o.overrides) : new Map<string, string>();
        let send: (s: FtwStage) => StageResult | Promise<StageResult>;
        if (o.target) {
          try {
            new URL(o.target);
          } catch {
            throw new BulwarkError('USAGE', `--target: not a URL: ${o.target}`);
          }
          send = m.targetSender(o.target, o.log, o.markerHeader);
        } else {
          if (!rules?.length)
            throw new BulwarkError(
              'USAGE',
              'waf test: --rules is needed in process (or give a CRS checkout)',
            );
          const paranoia = intOpt('--paranoia', o.paranoia, 1, 4)!;
          const rs = m.buildRuleSet({ rules, paranoia, mode: 'detect', extraSetvars: REGRESSION_SETVARS });
          send = (s: FtwStage) => m.runInProcessStage(rs, m.buildRawRequest(s.input));
        }
        const sum = await m.runTests(tests, send, overrides);
        const out = await openOutput(o.output);
        const failed = sum.outcomes.filter((x) => !x.pass && !x.skipped);
        if (o.format === 'json') {
          out.stream.write(
            JSON.stringify(
              {
                total: sum.total,
                passed: sum.passed,
                failed: sum.failed,
                skipped: sum.skipped,
                seconds: sum.ms / 1000,
                failures: failed.map((f) => ({
                  rule_id: f.test.ruleId,
                  test_id: f.test.testId,
                  file: f.test.file,
                  detail: f.detail,
                })),
                overridden: sum.outcomes
                  .filter((x) => x.skipped)
                  .map((f) => ({ rule_id: f.test.ruleId, test_id: f.test.testId, reason: f.reason })),
              },
              null,
              2,
            ) + '\n',
          );
        } else {
          for (const f of failed)
            out.stream.write(`FAIL ${f.test.ruleId}-${f.test.testId} ${f.test.file}: ${f.detail}\n`);
          out.stream.write(
            `${sum.passed}/${sum.total} passed, ${sum.failed} failed, ${sum.skipped} overridden in ${(sum.ms / 1000).toFixed(1)}s\n`,
          );
        }
        await out.close();
        ctx.exitCode = failed.length ? 1 : 0;
      },
    );
}
