/**
 * Go cataloger: go.mod against syft's fixtures and expected packages; go.mod corner cases; and the
 * pre-1.18 build-info layout (pointers to Go string headers). No Go < 1.18 toolchain exists here,
 * so that layout is checked on a minimal ELF assembled by this test (hand-made, stated as such);
 * the current layout is covered on real binaries in go-binary.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { goCataloger, parseGoMod, readGoBuildInfo } from '../../src/catalog/go/index.js';
import { readTree, runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';
import { syftExpectations } from '../helpers/syft.js';

const CORPUS = `${SHARED}/corpora/syft`;
const expected = syftExpectations().filter((e) => e.test_file.includes('/golang/'));

test('syft go.mod fixtures: same modules, versions and purls as syft expects', async () => {
  assert.ok(expected.length >= 4);
  for (const c of expected) {
    const abs = join(CORPUS, 'syft', c.fixture!.replace(/^syft\//, ''));
    const files = statSync(abs).isDirectory() ? readTree(abs, '/src') : { '/src/go.mod': readFileSync(abs) };
    const { packages, warnings } = await runCataloger(goCataloger, files);
    assert.deepEqual(warnings, []);
    const k = (p: { name: string; version: string; purl?: string }) => `${p.name}@${p.version} ${p.purl}`;
    assert.deepEqual(packages.map(k).sort(), c.packages.map(k).sort(), c.fixture);
  }
});

test('go.mod: blocks, indirect, versioned vs unversioned replace, exclude, quoted paths', () => {
  const mod = parseGoMod(
    [
      'module "example.com/m"',
      'go 1.21',
      'require example.com/a v1.0.0',
      'require (',
      '\texample.com/b v2.0.0+incompatible // indirect',
      '\texample.com/c v1.1.0 // indirect; used by tests',
      '\texample.com/d v0.3.0',
      '\texample.com/e v1.0.0',
      ')',
      'replace example.com/c v1.0.0 => example.com/c v9.9.9 // other version: not applied',
      'replace example.com/c => example.com/c-fork v1.1.1',
      'replace (',
      '\texample.com/d v0.3.0 => ../d',
      ')',
      'exclude example.com/e v1.0.0',
    ].join('\n'),
  );
  assert.equal(mod.module, 'example.com/m');
  assert.equal(mod.go, '1.21');
  assert.deepEqual(mod.requires, [
    { path: 'example.com/a', version: 'v1.0.0', indirect: false },
    { path: 'example.com/b', version: 'v2.0.0+incompatible', indirect: true },
    {
      path: 'example.com/c-fork',
      version: 'v1.1.1',
      indirect: true,
      replaced: { path: 'example.com/c', version: 'v1.1.0' },
    },
    {
      path: 'example.com/d',
      version: '',
      indirect: false,
      replaced: { path: 'example.com/d', version: 'v0.3.0' },
    },
  ]);
  assert.throws(() => parseGoMod('replace example.com/x\n'), /line 1: malformed replace/);
});

/** A minimal ELF with .data (Go string headers) and .rodata (bytes), old-style .go.buildinfo. */
function oldStyleElf(is64: boolean, le: boolean, version: string, modinfo: string): Buffer {
  const ptr = is64 ? 8 : 4;
  const w = (b: Buffer, off: number, v: number, size: number) => {
    if (size === 8) {
      if (le) b.writeBigUInt64LE(BigInt(v), off);
      else b.writeBigUInt64BE(BigInt(v), off);
    } else if (size === 4) {
      if (le) b.writeUInt32LE(v, off);
      else b.writeUInt32BE(v, off);
    } else if (le) b.writeUInt16LE(v, off);
    else b.writeUInt16BE(v, off);
  };
  const RODATA = 0x401000;
  const DATA = 0x402000;
  const BI = 0x403000;
  const rodata = Buffer.from(version + modinfo, 'utf8');
  const data = Buffer.alloc(4 * ptr);
  w(data, 0, RODATA, ptr);
  w(data, ptr, Buffer.byteLength(version), ptr);
  w(data, 2 * ptr, RODATA + Buffer.byteLength(version), ptr);
  w(data, 3 * ptr, Buffer.byteLength(modinfo), ptr);
  const bi = Buffer.alloc(32);
  bi.write('\xff Go buildinf:', 0, 'latin1');
  bi[14] = ptr;
  bi[15] = le ? 0 : 1;
  w(bi, 16, DATA, ptr);
  w(bi, 16 + ptr, DATA + 2 * ptr, ptr);
  const shstr = Buffer.from('\0.rodata\0.data\0.go.buildinfo\0.shstrtab\0', 'latin1');
  const shentsize = is64 ? 64 : 40;
  const parts = [rodata, data, bi, shstr];
  const offs: number[] = [];
  let off = 0x100;
  for (const p of parts) {
    off = (off + 15) & ~15;
    offs.push(off);
    off += p.length;
  }
  const shoff = (off + 15) & ~15;
  const out = Buffer.alloc(shoff + 5 * shentsize);
  out.write('\x7fELF', 0, 'latin1');
  out[4] = is64 ? 2 : 1;
  out[5] = le ? 1 : 2;
  out[6] = 1;
  w(out, 16, 2, 2); // ET_EXEC
  if (is64) {
    w(out, 0x28, shoff, 8);
    w(out, 0x3a, shentsize, 2);
    w(out, 0x3c, 5, 2);
    w(out, 0x3e, 4, 2);
  } else {
    w(out, 0x20, shoff, 4);
    w(out, 0x2e, shentsize, 2);
    w(out, 0x30, 5, 2);
    w(out, 0x32, 4, 2);
  }
  parts.forEach((p, i) => p.copy(out, offs[i]));
  const names = [1, 9, 15, 29];
  const addrs = [RODATA, DATA, BI, 0];
  parts.forEach((p, i) => {
    const o = shoff + (i + 1) * shentsize;
    w(out, o, names[i]!, 4);
    w(out, o + 4, i === 3 ? 3 : 1, 4);
    if (is64) {
      w(out, o + 16, addrs[i]!, 8);
      w(out, o + 24, offs[i]!, 8);
      w(out, o + 32, p.length, 8);
    } else {
      w(out, o + 12, addrs[i]!, 4);
      w(out, o + 16, offs[i]!, 4);
      w(out, o + 20, p.length, 4);
    }
  });
  return out;
}

test('pre-Go-1.18 build info (pointer layout) in 64-bit LE and 32-bit BE ELF', () => {
  const sentinel = '0123456789abcdef';
  const modinfo = `${sentinel}path\texample.com/old\nmod\texample.com/old\tv1.0.0\th1:x=\ndep\tgolang.org/x/text\tv0.3.7\th1:y=\n\x00${sentinel}`;
  for (const [is64, le] of [
    [true, true],
    [false, false],
  ] as const) {
    const info = readGoBuildInfo(oldStyleElf(is64, le, 'go1.16.15', modinfo.replace('\x00', '')));
    assert.ok(info, `is64=${is64} le=${le}`);
    assert.equal(info.goVersion, 'go1.16.15');
    assert.equal(info.path, 'example.com/old');
    assert.deepEqual(info.main, { path: 'example.com/old', version: 'v1.0.0', sum: 'h1:x=' });
    assert.deepEqual(info.deps, [{ path: 'golang.org/x/text', version: 'v0.3.7', sum: 'h1:y=' }]);
  }
  // a header whose pointers lead nowhere is not build info, and not a crash
  const broken = oldStyleElf(true, true, 'go1.16', 'x');
  broken.writeBigUInt64LE(0xdeadbeefn, broken.indexOf('\xff Go buildinf:', 0, 'latin1') + 16);
  assert.equal(readGoBuildInfo(broken), undefined);
});
