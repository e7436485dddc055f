/**
 * Pulling through Debian's real docker-registry on 127.0.0.1: TLS with a CA made for the run,
 * htpasswd basic auth, bearer tokens, Docker config credentials, error messages, retries.
 */
import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type Server } from 'node:http';
import { createSign, randomBytes, randomUUID } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BulwarkError } from '../../src/core/errors.js';
import { analyzeTarget, parseImageReference, RegistryClient } from '../../src/image/index.js';
import { debianImage, startRegistry, type FixtureImage, type TestRegistry } from '../fixtures/index.js';
import { execFileP, recorder, type Seen } from './helpers.js';

const status = () => recorder('status', 'final', (e) => e.path === '/var/lib/dpkg/status');
const hello = () => recorder('hello', 'final', (e) => e.path === '/hello.txt');

/** A tiny real image made with umoci (one layer, /hello.txt). */
async function smallImage(dir: string): Promise<FixtureImage> {
  const layout = join(dir, 'small');
  const src = join(dir, 'small-src');
  await execFileP('mkdir', ['-p', src]);
  writeFileSync(join(src, 'hello.txt'), 'hello from a small image\n');
  await execFileP('umoci', ['init', '--layout', layout]);
  await execFileP('umoci', ['new', '--image', `${layout}:small`]);
  await execFileP('umoci', [
    'config',
    '--image',
    `${layout}:small`,
    '--os',
    'linux',
    '--architecture',
    'amd64',
  ]);
  await execFileP('umoci', ['insert', '--image', `${layout}:small`, join(src, 'hello.txt'), '/hello.txt']);
  return {
    ociDir: layout,
    tag: 'small',
    dockerArchive: '',
    rootfs: '',
    expected: { dpkg: [], npm: [], python: [], go: [], goStdlib: '' },
  };
}

async function smallImageRef(dir: string): Promise<FixtureImage> {
  return {
    ociDir: join(dir, 'small'),
    tag: 'small',
    dockerArchive: '',
    rootfs: '',
    expected: { dpkg: [], npm: [], python: [], go: [], goStdlib: '' },
  };
}

async function rejectsWith(p: Promise<unknown>, code: string, re: RegExp): Promise<BulwarkError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof BulwarkError, `expected a BulwarkError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return e;
  }
  assert.fail('expected an error');
}

describe('registry source against docker-registry', { timeout: 600_000 }, () => {
  let tmp: string;
  let img: FixtureImage;
  let small: FixtureImage;
  let reg: TestRegistry; // TLS + basic auth
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bulwark-regtest-'));
    [img, small, reg] = await Promise.all([
      debianImage(),
      smallImage(tmp),
      startRegistry({ tls: true, auth: true }),
    ]);
    await Promise.all([reg.push(img, 'bulwark/debian', '1.0'), reg.push(small, 'bulwark/small', 'v1')]);
  });
  after(async () => {
    await reg?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('pulls the Debian image over TLS with basic auth: same manifest, layers and files as the OCI layout', async () => {
    const creds = { username: reg.username, password: reg.password, caCertFile: reg.caCertFile };
    const [pulled, local] = await Promise.all([
      analyzeTarget(`${reg.host}/bulwark/debian:1.0`, [status()], creds),
      analyzeTarget(`oci:${img.ociDir}:${img.tag}`, [status()]),
    ]);
    assert.equal(pulled.artifact.kind, 'image');
    assert.equal(pulled.artifact.digest, local.artifact.digest);
    assert.deepEqual(pulled.artifact.repoTags, [`${reg.host}/bulwark/debian:1.0`]);
    assert.deepEqual(pulled.artifact.repoDigests, [`${reg.host}/bulwark/debian@${local.artifact.digest}`]);
    assert.deepEqual(pulled.artifact.layers, local.artifact.layers);
    const s = pulled.results.get('status')!.map((r) => r.result as Seen);
    assert.ok(s[0]!.content.equals(readFileSync(join(img.rootfs, 'var/lib/dpkg/status'))));
    assert.equal(pulled.files.size, local.files.size);
  });

  test('wrong password: 401 message names registry and repository, never the password', async () => {
    const e = await rejectsWith(
      analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], {
        username: reg.username,
        password: 'not-the-Secret-42',
        caCertFile: reg.caCertFile,
      }),
      'AUTH',
      /authentication failed for user "bulwark"/,
    );
    assert.ok(e.message.includes(reg.host) && e.message.includes('bulwark/small'), e.message);
    assert.ok(!e.message.includes('not-the-Secret-42'));
  });

  test('no credentials: 401 says how to log in', async () => {
    await rejectsWith(
      analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], {
        caCertFile: reg.caCertFile,
        dockerConfigPath: join(tmp, 'none.json'),
      }),
      'AUTH',
      /authentication required.*--username/,
    );
  });

  test('missing tag and missing repository: 404 messages', async () => {
    const o = { username: reg.username, password: reg.password, caCertFile: reg.caCertFile };
    await rejectsWith(
      analyzeTarget(`${reg.host}/bulwark/small:nope`, [hello()], o),
      'NOT_FOUND',
      /repository bulwark\/small on registry 127\.0\.0\.1:\d+: manifest "nope" not found/,
    );
    await rejectsWith(
      analyzeTarget(`${reg.host}/bulwark/absent:v1`, [hello()], o),
      'NOT_FOUND',
      /bulwark\/absent.*(repository not found|not found)/,
    );
  });

  test('credentials from a Docker config file (auth and username/password forms)', async () => {
    const cfg1 = join(tmp, 'config1.json');
    writeFileSync(
      cfg1,
      JSON.stringify({
        auths: {
          [`https://${reg.host}`]: {
            auth: Buffer.from(`${reg.username}:${reg.password}`).toString('base64'),
          },
        },
      }),
    );
    const r = await analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], {
      caCertFile: reg.caCertFile,
      dockerConfigPath: cfg1,
    });
    assert.equal(
      (r.results.get('hello')![0]!.result as Seen).content.toString(),
      'hello from a small image\n',
    );
    const cfg2 = join(tmp, 'config2.json');
    writeFileSync(
      cfg2,
      JSON.stringify({ auths: { [reg.host]: { username: reg.username, password: reg.password } } }),
    );
    const r2 = await analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], {
      caCertFile: reg.caCertFile,
      dockerConfigPath: cfg2,
    });
    assert.equal(r2.results.get('hello')!.length, 1);
  });

  test('credentials from a docker-credential helper named in credHelpers', async () => {
    // A credential helper is a program speaking the docker-credential protocol: host on stdin, JSON out.
    const bin = join(tmp, 'bin');
    mkdirSync(bin, { recursive: true });
    const helper = join(bin, 'docker-credential-bulwarktest');
    writeFileSync(
      helper,
      `#!/bin/sh\nread host\n[ "$1" = get ] && [ "$host" = "${reg.host}" ] && printf '{"ServerURL":"%s","Username":"${reg.username}","Secret":"${reg.password}"}' "$host"\n`,
    );
    chmodSync(helper, 0o755);
    const cfg = join(tmp, 'config-helper.json');
    writeFileSync(cfg, JSON.stringify({ credHelpers: { [reg.host]: 'bulwarktest' } }));
    const oldPath = process.env.PATH;
    process.env.PATH = `${bin}:${oldPath}`;
    try {
      const r = await analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], {
        caCertFile: reg.caCertFile,
        dockerConfigPath: cfg,
      });
      assert.equal(r.results.get('hello')!.length, 1);
    } finally {
      process.env.PATH = oldPath;
    }
  });

  test('TLS: an unknown CA is refused with a hint; --insecure accepts it', async () => {
    const o = { username: reg.username, password: reg.password };
    await rejectsWith(
      analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], o),
      'NETWORK',
      /not trusted.*--ca-cert/,
    );
    const r = await analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], { ...o, insecure: true });
    assert.equal(r.results.get('hello')!.length, 1);
  });

  test('RegistryClient: tags, catalog, manifest digest verification', async () => {
    const c = new RegistryClient(reg.host, {
      username: reg.username,
      password: reg.password,
      caCertFile: reg.caCertFile,
    });
    try {
      assert.deepEqual(await c.listTags('bulwark/small'), ['v1']);
      assert.deepEqual((await c.catalog()).sort(), ['bulwark/debian', 'bulwark/small']);
      const m = await c.getManifest('bulwark/small', 'v1');
      assert.equal(m.doc.kind, 'manifest');
      const byDigest = await c.getManifest('bulwark/small', m.digest);
      assert.ok(byDigest.body.equals(m.body));
    } finally {
      await c.close();
    }
    assert.deepEqual(
      parseImageReference(`${reg.host}/bulwark/small@${'sha256:' + 'a'.repeat(64)}`).digest,
      `sha256:${'a'.repeat(64)}`,
    );
  });
});

/**
 * Bearer tokens. docker-registry's token auth needs a token service that signs JWTs with a key the
 * registry trusts (rootcertbundle); none is packaged in Debian, so this test plays that service: it
 * checks the basic credentials and signs ES256 tokens with the requested access. The registry
 * itself verifies every token, as it would with any real token service.
 */
describe(
  'bearer-token auth (docker-registry + a token service run by the test)',
  { timeout: 300_000 },
  () => {
    let tmp: string;
    let reg: TestRegistry;
    let server: Server;
    let small: FixtureImage;
    const issued: string[] = [];
    before(async () => {
      tmp = mkdtempSync(join(tmpdir(), 'bulwark-token-'));
      await execFileP('openssl', [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '2',
        '-subj',
        '/CN=bulwark token signer',
        '-keyout',
        join(tmp, 'signer.key'),
        '-out',
        join(tmp, 'signer.crt'),
      ]);
      const key = readFileSync(join(tmp, 'signer.key'));
      const certDer = (await execFileP(
        'openssl',
        ['x509', '-in', join(tmp, 'signer.crt'), '-outform', 'DER'],
        { encoding: 'buffer' } as never,
      )) as unknown as { stdout: Buffer };
      const x5c = [Buffer.from(certDer.stdout).toString('base64')];
      const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x');
        const auth = req.headers.authorization ?? '';
        const [user, pass] = Buffer.from(auth.replace(/^Basic /, ''), 'base64')
          .toString()
          .split(':');
        if (!auth.startsWith('Basic ') || user !== reg.username || pass !== reg.password) {
          res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
          return;
        }
        const access = url.searchParams.getAll('scope').map((s) => {
          const [type, name, actions] = s.split(':');
          return { type, name, actions: (actions ?? '').split(',') };
        });
        const now = Math.floor(Date.now() / 1000);
        const header = b64({ typ: 'JWT', alg: 'ES256', x5c });
        const claims = b64({
          iss: 'bulwark-test-issuer',
          sub: user,
          aud: url.searchParams.get('service'),
          exp: now + 300,
          nbf: now - 10,
          iat: now,
          jti: randomUUID(),
          access,
        });
        const sig = createSign('SHA256')
          .update(`${header}.${claims}`)
          .sign({ key, dsaEncoding: 'ieee-p1363' })
          .toString('base64url');
        const token = `${header}.${claims}.${sig}`;
        issued.push(url.searchParams.getAll('scope').join(' '));
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ token, expires_in: 300 }));
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const port = (server.address() as { port: number }).port;
      reg = await startRegistry({
        tls: true,
        tokenAuth: {
          realm: `http://127.0.0.1:${port}/token`,
          service: 'bulwark-test-registry',
          issuer: 'bulwark-test-issuer',
          rootCertBundle: join(tmp, 'signer.crt'),
        },
      });
      small = await smallImage(tmp);
      await reg.push(small, 'bulwark/small', 'v1');
    });
    after(async () => {
      await reg?.stop();
      server?.close();
      rmSync(tmp, { recursive: true, force: true });
    });

    test('challenge → token → pull', async () => {
      issued.length = 0;
      const r = await analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], {
        username: reg.username,
        password: reg.password,
        caCertFile: reg.caCertFile,
      });
      assert.equal(
        (r.results.get('hello')![0]!.result as Seen).content.toString(),
        'hello from a small image\n',
      );
      assert.deepEqual(
        issued,
        ['repository:bulwark/small:pull'],
        'one token for the pull scope, reused for every request',
      );
    });

    test('the token service refuses wrong credentials: clear message', async () => {
      const e = await rejectsWith(
        analyzeTarget(`${reg.host}/bulwark/small:v1`, [hello()], {
          username: reg.username,
          password: 'wrong-pw-77',
          caCertFile: reg.caCertFile,
        }),
        'AUTH',
        /token service http:\/\/127\.0\.0\.1:\d+\/token refused the credentials of user "bulwark" for repository bulwark\/small/,
      );
      assert.ok(!e.message.includes('wrong-pw-77'));
    });
  },
);

/**
 * Retries: a small HTTP proxy on 127.0.0.1 in front of the real registry fails the first requests
 * with 429 (Retry-After: 0) and 503, then passes everything through.
 */
describe('retries on 429 and 503', { timeout: 300_000 }, () => {
  let tmp: string;
  let reg: TestRegistry;
  let proxy: Server;
  let proxyHost: string;
  const plan = { fail429: 0, fail503: 0, seen429: 0, seen503: 0, cutBlobAfter: 0, ranges: [] as string[] };
  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'bulwark-retry-'));
    reg = await startRegistry({ tls: false, auth: true });
    await reg.push(await smallImage(tmp), 'bulwark/small', 'v1');
    // An image with one incompressible 3 MB file, for downloads cut in the middle.
    const big = join(tmp, 'big-src');
    mkdirSync(big);
    writeFileSync(join(big, 'big.bin'), randomBytes(3 * 1024 * 1024));
    await execFileP('umoci', ['new', '--image', `${join(tmp, 'small')}:big`]);
    await execFileP('umoci', [
      'insert',
      '--image',
      `${join(tmp, 'small')}:big`,
      join(big, 'big.bin'),
      '/big.bin',
    ]);
    await reg.push({ ...(await smallImageRef(tmp)), tag: 'big' }, 'bulwark/big', 'v1');
    const [host, port] = reg.host.split(':');
    proxy = createServer((req, res) => {
      if (plan.fail429 > 0) {
        plan.fail429--;
        plan.seen429++;
        res.writeHead(429, { 'retry-after': '0' }).end('{"errors":[{"code":"TOOMANYREQUESTS"}]}');
        return;
      }
      if (plan.fail503 > 0) {
        plan.fail503--;
        plan.seen503++;
        res.writeHead(503).end('unavailable');
        return;
      }
      if (req.headers.range) plan.ranges.push(req.headers.range);
      const cutting = req.url?.includes('/blobs/') ? plan.cutBlobAfter : 0;
      const up = httpRequest(
        {
          host,
          port: Number(port),
          method: req.method,
          path: req.url,
          headers: { ...req.headers, host: reg.host },
        },
        (ur) => {
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          // Drop the connection after `cut` bytes of the first blob bigger than that.
          const cut = cutting && Number(ur.headers['content-length']) > cutting ? cutting : 0;
          if (!cut) return void ur.pipe(res);
          plan.cutBlobAfter = 0;
          let sent = 0;
          ur.on('data', (c: Buffer) => {
            if (sent >= cut) return;
            res.write(c.subarray(0, cut - sent));
            sent += c.length;
            if (sent >= cut) {
              ur.destroy();
              res.socket?.destroy();
            }
          });
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    proxyHost = `127.0.0.1:${(proxy.address() as { port: number }).port}`;
  });
  after(async () => {
    await reg?.stop();
    proxy?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  test('429 then 503 are retried (plain HTTP via --insecure)', async () => {
    Object.assign(plan, { fail429: 2, fail503: 2, seen429: 0, seen503: 0 });
    const r = await analyzeTarget(`${proxyHost}/bulwark/small:v1`, [hello()], {
      username: reg.username,
      password: reg.password,
      insecure: true,
      retries: 4,
    });
    assert.equal(r.results.get('hello')!.length, 1);
    assert.deepEqual([plan.seen429, plan.seen503], [2, 2]);
  });

  test('a blob download cut in the middle resumes with a Range request', async () => {
    Object.assign(plan, { cutBlobAfter: 1024 * 1024, ranges: [] });
    const r = await analyzeTarget(
      `${proxyHost}/bulwark/big:v1`,
      [recorder('big', 'final', (e) => e.path === '/big.bin')],
      {
        username: reg.username,
        password: reg.password,
        insecure: true,
      },
    );
    const got = (r.results.get('big')![0]!.result as Seen).content;
    assert.ok(got.equals(readFileSync(join(tmp, 'big-src', 'big.bin'))), 'content intact after the resume');
    assert.equal(plan.ranges.length, 1);
    assert.match(plan.ranges[0]!, /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(plan.ranges[0]!)![0]) >= 1024 * 1024 - 65536);
  });

  test('a registry that never answers times out', async () => {
    const silent = createNetServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const t0 = Date.now();
      await rejectsWith(
        analyzeTarget(`127.0.0.1:${port}/bulwark/small:v1`, [], { timeoutMs: 300, retries: 1 }),
        'TIMEOUT',
        new RegExp(
          `manifest v1 for repository bulwark/small on registry 127\\.0\\.0\\.1:${port}: timed out after 2 attempts`,
        ),
      );
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      silent.close();
    }
  });

  test('gives up after the configured retries with a clear message', async () => {
    Object.assign(plan, { fail429: 5, fail503: 0, seen429: 0, seen503: 0 });
    await rejectsWith(
      analyzeTarget(`${proxyHost}/bulwark/small:v1`, [hello()], {
        username: reg.username,
        password: reg.password,
        insecure: true,
        retries: 1,
      }),
      'RATE_LIMIT',
      /bulwark\/small.*too many requests \(HTTP 429\), gave up after 2 attempts/,
    );
    assert.equal(plan.seen429, 2);
    plan.fail429 = 0;
  });
});
