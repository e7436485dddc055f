/**
 * The sensor record decoder (src/runtime/sensor/record.ts) on byte streams: records split across
 * chunks at every offset, unknown types skipped by length, version and length errors, address
 * text, Linux O_* → PPM_O_* flags. Records are written here field by field as sensor.h lays them
 * out; the live test (sensor.test.ts) checks the same decoder against the real loader.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  PPM_O_CLOEXEC,
  PPM_O_CREAT,
  PPM_O_DIRECTORY,
  PPM_O_RDONLY,
  PPM_O_TRUNC,
  PPM_O_WRONLY,
} from '../../src/runtime/flags.js';
import {
  addrText,
  HDR_SIZE,
  RECORD_VERSION,
  T_CAPSET,
  T_CONNECT,
  T_EXEC,
  T_FORK,
  T_LINK,
  T_OPENAT,
  T_PTRACE,
  T_SETID,
} from '../../src/runtime/sensor/record.js';
import { FIELDS } from '../../src/runtime/rules/fields.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { capsToString } from '../../src/runtime/flags.js';
import {
  execPathHash,
  openFlagsToPpm,
  RecordFormatError,
  RecordStream,
  recordToEvents,
} from '../../src/runtime/sensor/index.js';
import { renderParam } from '../../src/runtime/rules/render.js';

function hdr(type: number, len: number, tid: number, version = RECORD_VERSION): Buffer {
  const b = Buffer.alloc(HDR_SIZE);
  b.writeUInt16LE(version, 0);
  b.writeUInt16LE(type, 2);
  b.writeUInt32LE(len, 4);
  b.writeBigUInt64LE(123456789n, 8);
  b.writeUInt32LE(tid, 16);
  b.writeUInt32LE(tid, 20);
  b.writeUInt32LE(1, 24);
  b.writeBigUInt64LE(42n, 40);
  b.writeBigInt64LE(3n, 56);
  b.write('cat', 64);
  return b;
}

function openRec(tid: number, path: string): Buffer {
  const p = Buffer.from(path);
  const body = Buffer.alloc(24);
  body.writeInt32LE(-100, 0);
  body.writeUInt32LE(0o2000000, 4);
  body.writeUInt32LE(p.length, 12);
  body.writeUInt32LE(2, 16); // openat2
  body.writeUInt32LE(0x08, 20); // RESOLVE_NO_SYMLINKS
  return Buffer.concat([hdr(T_OPENAT, HDR_SIZE + 24 + p.length, tid), body, p]);
}

describe('sensor record stream', () => {
  it('decodes records split at every byte offset, skipping unknown types by length', () => {
    const unknown = Buffer.concat([hdr(77, HDR_SIZE + 5, 9), Buffer.from('xxxxx')]);
    const all = Buffer.concat([openRec(10, '/etc/hostname'), unknown, openRec(11, 'rel/path')]);
    for (let cut = 0; cut <= all.length; cut++) {
      const s = new RecordStream();
      const recs = [...s.push(all.subarray(0, cut)), ...s.push(all.subarray(cut))];
      assert.equal(s.pending, 0);
      assert.deepEqual(
        recs.map((r) => [r.kind, r.h.tid, r.kind === 'openat' ? r.path : '']),
        [
          ['openat', 10, '/etc/hostname'],
          ['unknown', 9, ''],
          ['openat', 11, 'rel/path'],
        ],
      );
    }
    const r = new RecordStream().push(openRec(10, '/x'))[0]!;
    assert.equal(r.kind, 'openat');
    if (r.kind === 'openat') {
      assert.equal(r.dirfd, -100);
      assert.equal(r.flags, 0o2000000);
      assert.equal(r.syscall, 'openat2');
      assert.equal(r.resolve, 8);
      assert.equal(r.h.comm, 'cat');
      assert.equal(r.h.res, 3);
      assert.equal(r.h.cgroupId, 42n);
    }
  });

  it('rejects another record version and lengths shorter than the payload', () => {
    assert.throws(
      () => new RecordStream().push(Buffer.concat([hdr(T_OPENAT, HDR_SIZE + 24, 1, 1), Buffer.alloc(24)])),
      RecordFormatError,
    );
    assert.throws(() => new RecordStream().push(hdr(T_CONNECT, HDR_SIZE, 1)), RecordFormatError);
    assert.throws(() => new RecordStream().push(hdr(T_OPENAT, 8, 1)), RecordFormatError);
    // a link record whose two path lengths run past its end
    const lk = Buffer.alloc(24);
    lk.writeUInt32LE(10, 16);
    lk.writeUInt32LE(10, 20);
    assert.throws(
      () =>
        new RecordStream().push(Buffer.concat([hdr(T_LINK, HDR_SIZE + 24 + 12, 1), lk, Buffer.alloc(12)])),
      RecordFormatError,
    );
  });

  it('formats IPv4, IPv6 and IPv4-mapped addresses', () => {
    const v4 = Buffer.from([127, 0, 0, 1, ...new Array(12).fill(0)]);
    assert.equal(addrText(2, v4, 0), '127.0.0.1');
    const v6 = Buffer.alloc(16);
    v6[15] = 1;
    assert.equal(addrText(10, v6, 0), '::1');
    const d = Buffer.from('20010db8000000000000000000000001', 'hex');
    assert.equal(addrText(10, d, 0), '2001:db8::1');
    const m = Buffer.from('00000000000000000000ffff0a000001', 'hex');
    assert.equal(addrText(10, m, 0), '::ffff:10.0.0.1');
  });

  it('maps Linux open flags to PPM_O_*', () => {
    assert.equal(openFlagsToPpm(0), PPM_O_RDONLY);
    assert.equal(openFlagsToPpm(0o1 | 0o100 | 0o1000), PPM_O_WRONLY | PPM_O_CREAT | PPM_O_TRUNC);
    assert.equal(openFlagsToPpm(0o200000 | 0o2000000), PPM_O_RDONLY | PPM_O_DIRECTORY | PPM_O_CLOEXEC);
  });

  it('ptrace and linkat records become libscap-shaped events (PPM_PTRACE_* requests, linkat params)', () => {
    const body = Buffer.alloc(24);
    body.writeInt32LE(16, 0); // the kernel's PTRACE_ATTACH
    body.writeInt32LE(4242, 4);
    const rec = new RecordStream().push(Buffer.concat([hdr(T_PTRACE, HDR_SIZE + 24, 7), body]))[0]!;
    const evs = recordToEvents(rec, { bootToRealtime: 0n, num: 1, procfs: false });
    assert.deepEqual(
      evs.map((e) => [e.type, e.dir]),
      [
        ['ptrace', '>'],
        ['ptrace', '<'],
      ],
    );
    assert.equal(evs[0]!.params.pid, 4242);
    assert.equal(renderParam(evs[0]!, 'request', evs[0]!.params.request), 'PTRACE_ATTACH');
    assert.equal(evs[1]!.params.res, 3);

    const oldp = Buffer.from('/etc/shadow');
    const newp = Buffer.from('x');
    const lk = Buffer.alloc(24);
    lk.writeUInt32LE(3, 0); // linkat
    lk.writeInt32LE(-100, 4);
    lk.writeInt32LE(5, 8);
    lk.writeUInt32LE(0x400, 12); // AT_SYMLINK_FOLLOW
    lk.writeUInt32LE(oldp.length, 16);
    lk.writeUInt32LE(newp.length, 20);
    const lrec = new RecordStream().push(
      Buffer.concat([hdr(T_LINK, HDR_SIZE + 24 + oldp.length + newp.length, 7), lk, oldp, newp]),
    )[0]!;
    const [le] = recordToEvents(lrec, { bootToRealtime: 0n, num: 1, procfs: false });
    assert.equal(le!.type, 'linkat');
    assert.deepEqual(le!.params, {
      res: 3,
      olddir: -100,
      oldpath: '/etc/shadow',
      newdir: 5,
      newpath: 'x',
      flags: 0x400,
    });
  });

  it('exec, setid and capset records carry the capability sets into thread.cap_* (fork inherits them); exec names its cgroup', () => {
    const CAP_SYS_ADMIN = 2 ** 21;
    const CAP_DAC_OVERRIDE = 2 ** 1;
    const CAP_SYS_MODULE = 2 ** 16;
    const caps = (inh: number, prm: number, eff: number) => {
      const b = Buffer.alloc(24);
      b.writeBigUInt64LE(BigInt(inh), 0);
      b.writeBigUInt64LE(BigInt(prm), 8);
      b.writeBigUInt64LE(BigInt(eff), 16);
      return b;
    };
    const full = 2 ** 41 - 1; // CAP_CHOWN … CAP_CHECKPOINT_RESTORE
    const file = Buffer.from('/usr/bin/perl');
    // the process is gone before /proc is read (procfs: false here): the kernel's cgroup leaf names the container
    const leaf = Buffer.from('docker-' + 'ab12'.repeat(16) + '.scope');
    const ex = Buffer.alloc(32);
    ex.writeUInt32LE(file.length, 0);
    ex.writeUInt32LE(leaf.length, 24);
    const execRec = Buffer.concat([
      hdr(T_EXEC, HDR_SIZE + 56 + file.length + leaf.length, 50),
      ex,
      caps(0, full, full),
      file,
      leaf,
    ]);
    const fk = Buffer.alloc(16);
    fk.writeUInt32LE(51, 0);
    fk.writeUInt32LE(51, 4);
    const forkRec = Buffer.concat([hdr(T_FORK, HDR_SIZE + 16, 50), fk]);
    // the child calls setuid(1000): the kernel clears its permitted and effective sets
    const si = Buffer.alloc(16);
    si.writeUInt32LE(0, 0);
    si.writeInt32LE(1000, 4);
    const setidRec = Buffer.concat([hdr(T_SETID, HDR_SIZE + 40, 51), si, caps(0, 0, 0)]);
    // the parent drops to DAC_OVERRIDE|SYS_ADMIN with capset
    const capsetHdr = hdr(T_CAPSET, HDR_SIZE + 24, 50);
    capsetHdr.writeBigInt64LE(0n, 56); // res: a failed capset (res < 0) changes nothing
    const capsetRec = Buffer.concat([
      capsetHdr,
      caps(0, CAP_DAC_OVERRIDE | CAP_SYS_ADMIN | CAP_SYS_MODULE, CAP_DAC_OVERRIDE | CAP_SYS_ADMIN),
    ]);
    const st = new StateTracker();
    const ctx = { bootToRealtime: 0n, num: 1, procfs: false, thread: (t: number) => st.thread(t) };
    const val = (field: string, ev: Parameters<(typeof FIELDS)[string]['get']>[0]) =>
      FIELDS[field]!.get(ev, st, undefined);
    const seen: [string, string, unknown, unknown][] = [];
    for (const rec of new RecordStream().push(Buffer.concat([execRec, forkRec, setidRec, capsetRec]))) {
      for (const ev of recordToEvents(rec, ctx)) {
        st.process(ev);
        if (ev.dir === '<')
          seen.push([
            ev.type,
            String(ev.tid),
            val('thread.cap_effective', ev),
            val('thread.cap_permitted', ev),
          ]);
      }
    }
    assert.equal(st.thread(50)?.containerId, 'ab12ab12ab12');
    const all = capsToString(full);
    assert.equal(all.split(' ').length, 41);
    assert.ok(all.startsWith('CAP_CHOWN CAP_DAC_OVERRIDE ') && all.endsWith(' CAP_CHECKPOINT_RESTORE'));
    assert.deepEqual(seen, [
      ['execve', '50', all, all],
      ['clone', '51', all, all],
      ['setuid', '51', '', ''],
      ['capset', '50', 'CAP_DAC_OVERRIDE CAP_SYS_ADMIN', 'CAP_DAC_OVERRIDE CAP_SYS_MODULE CAP_SYS_ADMIN'],
    ]);
    // a thread known from nothing has no capability value (<NA>), not an empty set
    assert.equal(
      FIELDS['thread.cap_effective']!.get(
        { num: 9, ts: 0n, tid: 999, cpu: 0, type: 'openat', dir: '<', params: {} },
        new StateTracker(),
        undefined,
      ),
      undefined,
    );
  });

  it('the exec backstop hashes container paths as the kernel walks them (FNV-1a 64, leaf first, NUL after each)', () => {
    // FNV-1a 64 of nothing is its offset basis; of "a\0": (basis ^ 0x61) * prime, then ^ 0 * prime
    assert.equal(execPathHash('/'), 'cbf29ce484222325');
    const P = 0x100000001b3n;
    const M = 2n ** 64n - 1n;
    const a0 = ((((0xcbf29ce484222325n ^ 0x61n) * P) & M) * P) & M;
    assert.equal(execPathHash('/a'), a0.toString(16).padStart(16, '0'));
    // the same path written differently is the same file; the order of components matters
    assert.equal(execPathHash('/usr/bin/id'), execPathHash('//usr/./bin/id'));
    assert.notEqual(execPathHash('/usr/bin/id'), execPathHash('/bin/usr/id'));
  });
});
