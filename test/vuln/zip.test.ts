/**
 * The OSV zip reader (src/vuln/db/zip.ts) against archives written by the real `zip` tool from the
 * real OSV records: the same entries, names and bytes as yauzl (the reader it replaced) reads, for
 * plain and zip64 archives (`zip -fz`, as osv.dev's all.zip of more than 65,535 records is); and
 * damaged archives refused with CORRUPT.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import yauzl from 'yauzl';
import { zipEntries } from '../../src/vuln/db/zip.js';
import { isBulwarkError } from '../../src/core/errors.js';
import { SHARED } from '../helpers/shared.js';

const OSV = `${SHARED}/data/osv`;
const tmp = mkdtempSync(join(tmpdir(), 'bulwark-zip-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Every file entry as yauzl reads it (names and inflated bytes), in central-directory order. */
function yauzlEntries(path: string): Promise<{ name: string; data: Buffer }[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(path, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out: { name: string; data: Buffer }[] = [];
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(e, (err2, s) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          s.on('data', (c: Buffer) => chunks.push(c));
          s.on('end', () => {
            out.push({ name: e.fileName, data: Buffer.concat(chunks) });
            zip.readEntry();
          });
        });
      });
      zip.on('end', () => resolve(out));
      zip.on('error', reject);
      zip.readEntry();
    });
  });
}

for (const [label, args] of [
  ['deflated', ['-q', '-r']],
  ['stored', ['-q', '-0', '-r']],
  ['zip64 (zip -fz)', ['-q', '-fz', '-r']],
] as const) {
  test(`${label} archive of the real OSV tree: the same entries and bytes as yauzl reads`, async () => {
    const out = join(tmp, `${label.split(' ')[0]}.zip`);
    execFileSync('zip', [...args, out, '.'], { cwd: OSV });
    const ours = [...zipEntries(out, 32 << 20)];
    const theirs = await yauzlEntries(out);
    const files = readdirSync(OSV).reduce((n, e) => n + readdirSync(join(OSV, e)).length, 0);
    assert.equal(ours.length, files);
    assert.deepEqual(
      ours.map((e) => e.name),
      theirs.map((e) => e.name),
    );
    for (let i = 0; i < ours.length; i++) assert.ok(ours[i]!.data.equals(theirs[i]!.data), ours[i]!.name);
    const first = ours.find((e) => e.name.startsWith('Go/'))!;
    assert.ok(first.data.equals(readFileSync(join(OSV, first.name))));
  });
}

test('damaged archives are refused: truncated, flipped deflate byte, not a zip; entries over the limit', () => {
  const good = join(tmp, 'npm.zip');
  execFileSync('zip', ['-q', '-j', '-r', good, '.'], { cwd: join(OSV, 'npm') });
  const buf = readFileSync(good);
  const corrupt = (b: Buffer, name: string, code = 'CORRUPT') => {
    const p = join(tmp, name);
    writeFileSync(p, b);
    assert.throws(
      () => {
        for (const _e of zipEntries(p, 32 << 20));
      },
      (e: unknown) => isBulwarkError(e) && e.code === code && e.message.includes(name),
      name,
    );
  };
  corrupt(buf.subarray(0, buf.length - 30), 'truncated-eocd.zip');
  corrupt(buf.subarray(buf.length >> 1), 'front-cut.zip');
  const flipped = Buffer.from(buf);
  flipped[200] ^= 0xff; // inside the first entry's deflate data
  corrupt(flipped, 'flipped.zip');
  corrupt(Buffer.from('{"id": "not a zip"}'), 'plain.zip');
  assert.throws(
    () => {
      for (const _e of zipEntries(good, 100));
    },
    (e: unknown) => isBulwarkError(e) && e.code === 'LIMIT',
  );
});
