/**
 * Layer-7 firewall cost, side by side in one run on the same machine: Bulwark's WAF proxy against
 * nginx + libmodsecurity3 (Debian's libnginx-mod-http-modsecurity, installed by
 * scripts/install-deps.sh) with the same CRS rules (the corpus's 4.29) at paranoia level 1, both
 * blocking, both one process / one worker, both in front of the same upstream on 127.0.0.1.
 *
 * For a small GET and a 1.1 KB JSON POST: CPU per request of the proxy process (utime+stime from
 * /proc), requests per second and p50/p99 latency with a keep-alive client at concurrency 8, and
 * the latency each adds over its bare proxy (nginx without ModSecurity; Bulwark's proxy with no
 * rules). Prints the ratios Bulwark / ModSecurity. BENCH_WAF_N sets the requests per scenario.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procCpu, procRssMb } from './proc.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const shared = process.env.BULWARK_SHARED_DIR ?? join(root, '..', 'shared');
const CRS = join(
  existsSync(join(shared, 'corpora')) ? shared : '/work/shared',
  'corpora',
  'coreruleset',
  'rules',
);
const N = Number(process.env.BENCH_WAF_N ?? 3000);
const CONC = 8;
const MODULE = '/usr/lib/nginx/modules/ngx_http_modsecurity_module.so';

if (!existsSync('/usr/sbin/nginx') || !existsSync(MODULE)) {
  console.error('nginx and libnginx-mod-http-modsecurity are needed: run scripts/install-deps.sh');
  process.exit(1);
}

const dir = mkdtempSync(join(tmpdir(), 'bw-waf-bench-'));
const procs: ChildProcess[] = [];
const cleanup = () => {
  for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
};
process.on('exit', cleanup);

/** utime + stime of a process, ms */
const cpuOf = (pid: number): number => procCpu(pid) * 1000;

async function waitPort(port: number): Promise<void> {
  for (let i = 0; i < 300; i++) {
    const ok = await new Promise<boolean>((r) => {
      const q = http.get(
        { host: '127.0.0.1', port, path: '/ready', headers: { host: 'bench.local' } },
        (res) => {
          res.resume();
          r(true);
        },
      );
      q.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} never answered`);
}

const order = {
  customer: { id: 48213, name: 'Maria Jensen', email: 'maria.jensen@example.com', phone: '+45 20 12 34 56' },
  shipping: { street: 'Vesterbrogade 12', city: 'Copenhagen', zip: '1620', country: 'DK' },
  items: Array.from({ length: 10 }, (_, i) => ({
    sku: `SKU-${1000 + i}`,
    title: `Ceramic mug, blue, 350 ml (set ${i + 1})`,
    qty: i + 1,
    price: 12.5 + i,
  })),
  note: 'Please leave the parcel at the door if nobody answers.',
  coupon: 'WINTER10',
};
const JSON_BODY = JSON.stringify(order);
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

interface Result {
  cpuMs: number;
  rps: number;
  p50: number;
  p99: number;
  statuses: Record<number, number>;
}

async function load(port: number, pid: number, post: boolean): Promise<Result> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONC });
  const one = () =>
    new Promise<{ ms: number; status: number }>((resolve, reject) => {
      const t = performance.now();
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          agent,
          method: post ? 'POST' : 'GET',
          path: post ? '/api/orders' : '/products?page=2&sort=price',
          headers: {
            host: 'shop.example',
            'user-agent': UA,
            accept: 'text/html,application/json;q=0.9,*/*;q=0.8',
            'accept-language': 'en-US,en;q=0.5',
            ...(post
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(JSON_BODY) }
              : {}),
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ ms: performance.now() - t, status: res.statusCode ?? 0 }));
        },
      );
      req.on('error', reject);
      req.end(post ? JSON_BODY : undefined);
    });
  // warm-up
  for (let i = 0; i < 200; i++) await one();
  const lat: number[] = [];
  const statuses: Record<number, number> = {};
  let next = 0;
  const c0 = cpuOf(pid);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONC }, async () => {
      while (next < N) {
        next++;
        const r = await one();
        lat.push(r.ms);
        statuses[r.status] = (statuses[r.status] ?? 0) + 1;
      }
    }),
  );
  const wall = performance.now() - t0;
  const cpu = cpuOf(pid) - c0;
  agent.destroy();
  lat.sort((a, b) => a - b);
  return {
    cpuMs: cpu / N,
    rps: (N / wall) * 1000,
    p50: lat[Math.floor(lat.length * 0.5)]!,
    p99: lat[Math.floor(lat.length * 0.99)]!,
    statuses,
  };
}

// ---------------------------------------------------------------- upstream (shared by all)
const UP = 38100 + Math.floor(Math.random() * 1000);
const upstream = spawn(
  process.execPath,
  [
    '-e',
    `require('http').createServer((q,s)=>{q.resume();q.on('end',()=>{const b='{"ok":true}';s.writeHead(200,{'content-type':'application/json','content-length':b.length});s.end(b)})}).listen(${UP},'127.0.0.1')`,
  ],
  { stdio: 'ignore' },
);
procs.push(upstream);

// ---------------------------------------------------------------- nginx (+ ModSecurity)
const NGX_MS = UP + 1;
const NGX_BARE = UP + 2;
const setup = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '-e',
    `import('${join(root, 'src/waf/setup.ts')}').then(m=>process.stdout.write(m.setupConfig({paranoia:1,mode:'block'})))`,
  ],
  { encoding: 'utf8', cwd: root },
);
if (setup.status !== 0) throw new Error(setup.stderr);
writeFileSync(join(dir, 'modsec.conf'), `${setup.stdout}\nSecAuditEngine Off\nInclude ${CRS}/*.conf\n`);
writeFileSync(
  join(dir, 'nginx.conf'),
  `load_module ${MODULE};
daemon off; master_process on; worker_processes 1; user root; pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  upstream app { server 127.0.0.1:${UP}; keepalive 32; }
  server { listen 127.0.0.1:${NGX_MS}; modsecurity on; modsecurity_rules_file ${dir}/modsec.conf;
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }
  server { listen 127.0.0.1:${NGX_BARE};
    location / { proxy_pass http://app; proxy_http_version 1.1; proxy_set_header Connection ""; } }
}
`,
);
const nginx = spawn('/usr/sbin/nginx', ['-p', dir, '-c', join(dir, 'nginx.conf')], { stdio: 'inherit' });
procs.push(nginx);

// ---------------------------------------------------------------- Bulwark (rules, and bare)
const BW = UP + 3;
const BW_BARE = UP + 4;
writeFileSync(join(dir, 'empty.conf'), '# no rules\n');
const boot = `const {main}=await import(${JSON.stringify(join(root, 'src/cli/main.ts'))}); process.exitCode = await main(['node','bulwark',...process.argv.slice(1)]);`;
const bulwark = (port: number, rules: string) =>
  spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      boot,
      '--',
      '-q',
      'waf',
      '--listen',
      `127.0.0.1:${port}`,
      '--upstream',
      `http://127.0.0.1:${UP}`,
      '--rules',
      rules,
      '--paranoia',
      '1',
    ],
    { stdio: 'inherit' },
  );
const bw = bulwark(BW, CRS);
const bwBare = bulwark(BW_BARE, join(dir, 'empty.conf'));
procs.push(bw, bwBare);

await Promise.all([waitPort(UP), waitPort(NGX_MS), waitPort(NGX_BARE), waitPort(BW), waitPort(BW_BARE)]);
const nginxWorker = Number(
  spawnSync('pgrep', ['-P', String(nginx.pid)], { encoding: 'utf8' })
    .stdout.trim()
    .split('\n')[0],
);

// sanity: both block the same attack
for (const [name, port] of [
  ['modsecurity', NGX_MS],
  ['bulwark', BW],
] as const) {
  const status = await new Promise<number>((r) =>
    http.get(
      {
        host: '127.0.0.1',
        port,
        path: `/?id=${encodeURIComponent("1' OR '1'='1")}`,
        headers: { host: 'shop.example', 'user-agent': UA },
      },
      (res) => {
        res.resume();
        r(res.statusCode ?? 0);
      },
    ),
  );
  console.log(`${name}: ?id=1' OR '1'='1 → ${status}`);
  if (status !== 403) throw new Error(`${name} did not block the SQL injection`);
}

const fmt = (r: Result) =>
  `${r.cpuMs.toFixed(3)} ms CPU/req, ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(2)} ms, p99 ${r.p99.toFixed(2)} ms, status ${JSON.stringify(r.statuses)}`;
for (const post of [false, true]) {
  const what = post ? 'JSON POST 1.1 KB' : 'GET';
  const ms = await load(NGX_MS, nginxWorker, post);
  const ngBare = await load(NGX_BARE, nginxWorker, post);
  const b = await load(BW, bw.pid!, post);
  const bBare = await load(BW_BARE, bwBare.pid!, post);
  console.log(`\n${what}`);
  console.log(`  nginx + ModSecurity + CRS: ${fmt(ms)}`);
  console.log(`  nginx bare proxy:          ${fmt(ngBare)}`);
  console.log(`  Bulwark WAF + CRS:         ${fmt(b)}`);
  console.log(`  Bulwark bare proxy:        ${fmt(bBare)}`);
  console.log(
    `  added p50 latency: ModSecurity ${(ms.p50 - ngBare.p50).toFixed(2)} ms, Bulwark ${(b.p50 - bBare.p50).toFixed(2)} ms`,
  );
  console.log(
    `  ratio Bulwark/ModSecurity: CPU ${(b.cpuMs / ms.cpuMs).toFixed(2)}x, req/s ${(b.rps / ms.rps).toFixed(2)}x, p99 ${(b.p99 / ms.p99).toFixed(2)}x`,
  );
}
const rss = procRssMb;
console.log(
  `\nresident memory after the runs: nginx worker ${rss(nginxWorker).toFixed(0)} MB, Bulwark ${rss(bw.pid!).toFixed(0)} MB`,
);
cleanup();
process.exit(0);
