/**
 * `-o FILE`: regular files are replaced atomically and keep their mode; devices, FIFOs, process
 * substitutions and symlink targets are written through and never replaced. Regression for the
 * report written with `-o /dev/null` as root that replaced the machine's /dev/null with a file.
 *
 * The device case uses a character device this test creates with mknod in its own temporary
 * directory (the same major/minor as /dev/null), never the machine's /dev.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  createReadStream,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openOutput, writeOutput } from '../../src/cli/output.js';

const ROOT = join(import.meta.dirname, '..', '..');
const tmp = mkdtempSync(join(tmpdir(), 'bw-output-'));
test.after(() => rmSync(tmp, { recursive: true, force: true }));

const CONFIG = join(tmp, 'pod.yaml');
writeFileSync(
  CONFIG,
  'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n    - name: c\n      image: nginx:1.25\n',
);

function sh(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', ['-c', script], {
      cwd: tmp,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: tmp,
        BW: `${process.execPath} ${join(ROOT, 'bin', 'bulwark')}`,
      },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('error', reject);
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

const isRoot = process.getuid?.() === 0;

test(
  'a character device is written through, not replaced',
  { skip: !isRoot && 'mknod needs root' },
  async () => {
    const dev = join(tmp, 'null');
    execFileSync('mknod', [dev, 'c', '1', '3']);
    await writeOutput('{"report":1}\n', dev);
    const st = lstatSync(dev);
    assert.ok(st.isCharacterDevice(), 'still a character device');
    assert.equal(st.rdev, statSync('/dev/null').rdev);
    assert.deepEqual(
      (await import('node:fs')).readdirSync(tmp).filter((n) => n.includes('.tmp')),
      [],
      'no temporary file left',
    );
  },
);

test(
  'the CLI writes -o to a device node and leaves it a device',
  { skip: !isRoot && 'mknod needs root' },
  async () => {
    const dev = join(tmp, 'null2');
    execFileSync('mknod', [dev, 'c', '1', '3']);
    const r = await sh(`$BW scan config -f json -o ${dev} ${CONFIG}`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(lstatSync(dev).isCharacterDevice());
  },
);

test('a FIFO is written through: the reader gets the whole report', async () => {
  const fifo = join(tmp, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const got = new Promise<string>((resolve, reject) => {
    let s = '';
    createReadStream(fifo, 'utf8')
      .on('data', (d) => (s += d))
      .on('end', () => resolve(s))
      .on('error', reject);
  });
  await writeOutput(['a'.repeat(100_000), 'end\n'], fifo);
  assert.equal(await got, 'a'.repeat(100_000) + 'end\n');
  assert.ok(lstatSync(fifo).isFIFO());
});

test('-o >(cmd): a process substitution receives the report', async () => {
  const r = await sh(
    `$BW scan config -f json -o >(cat > subst.json) ${CONFIG}; wait; sleep 0.2; cat subst.json`,
  );
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout) as { Results?: unknown };
  assert.ok(doc && typeof doc === 'object', 'the substituted command got JSON');
});

test('-o /dev/stdout appends to a redirected file and leaves /dev alone', async () => {
  writeFileSync(join(tmp, 'log.txt'), 'first line\n');
  const r = await sh(`$BW scan config -f json -o /dev/stdout ${CONFIG} >> log.txt`);
  assert.equal(r.code, 0, r.stderr);
  const text = readFileSync(join(tmp, 'log.txt'), 'utf8');
  assert.ok(text.startsWith('first line\n{'), text.slice(0, 40));
  assert.ok(lstatSync('/dev/stdout').isSymbolicLink(), '/dev/stdout is still a link');
});

test('a symlink is kept and its target replaced, with the target mode', async () => {
  const dir = join(tmp, 'link');
  mkdirSync(dir);
  const target = join(dir, 'real.json');
  writeFileSync(target, 'old');
  chmodSync(target, 0o600);
  const link = join(dir, 'report.json');
  symlinkSync('real.json', link);
  await writeOutput('new', link);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readlinkSync(link), 'real.json');
  assert.equal(readFileSync(target, 'utf8'), 'new');
  assert.equal(statSync(target).mode & 0o777, 0o600);
});

test('a dangling symlink gets its target created', async () => {
  const link = join(tmp, 'dangling.json');
  symlinkSync('made-by-bulwark.json', link);
  await writeOutput('x', link);
  assert.ok(lstatSync(link).isSymbolicLink());
  assert.equal(readFileSync(join(tmp, 'made-by-bulwark.json'), 'utf8'), 'x');
});

test('an existing regular file keeps its mode; a new one gets 0666 minus the umask', async () => {
  const f = join(tmp, 'mode.json');
  writeFileSync(f, 'old');
  chmodSync(f, 0o640);
  await writeOutput('new', f);
  assert.equal(readFileSync(f, 'utf8'), 'new');
  assert.equal(statSync(f).mode & 0o777, 0o640);
  const g = join(tmp, 'fresh.json');
  await writeOutput('x', g);
  const umask = process.umask();
  assert.equal(statSync(g).mode & 0o777, 0o666 & ~umask);
});

test('an aborted write leaves the previous regular file untouched and no temporary file', async () => {
  const f = join(tmp, 'keep.json');
  writeFileSync(f, 'previous report');
  const out = await openOutput(f);
  out.stream.write('half a rep');
  await out.abort();
  assert.equal(readFileSync(f, 'utf8'), 'previous report');
  assert.ok(!existsSync(join(tmp, `.keep.json.${process.pid}.tmp`)));
});

test('a directory is refused with a clear error', async () => {
  await assert.rejects(writeOutput('x', tmp), /cannot write .*EISDIR/);
});
