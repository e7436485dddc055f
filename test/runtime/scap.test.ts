/** The .scap reader on the legacy Falco captures: blocks, process list, decoded parameters, corrupt input. */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseScap, readScapFile, ScapError } from '../../src/runtime/scap/index.js';
import { SHARED } from '../helpers/shared.js';

const TF = `${SHARED}/corpora/falco/falco-legacy-regression-2023-08/test/trace_files`;

describe('scap reader', () => {
  it('cat_write.scap: machine, process list (PL V6), every event decoded', async () => {
    const c = await readScapFile(`${TF}/cat_write.scap`);
    assert.deepEqual(c.version, { major: 1, minor: 0 });
    assert.equal(c.machine?.hostname, 'ubuntu');
    assert.equal(c.counts.events, 345);
    assert.equal(c.counts.unknownEvents, 0);
    assert.equal(c.counts.skippedProcLists, 0);
    const init = c.processes.find((p) => p.tid === 1)!;
    assert.equal(init.comm, 'systemd');
    assert.equal(init.exe, '/sbin/init');
    const evs = [...c.events()];
    assert.deepEqual(evs.map((e) => e.num).slice(0, 3), [1, 2, 3]);
    const exec = evs.find((e) => e.type === 'execve' && e.dir === '<')!;
    assert.equal(exec.params.exe, 'cat');
    assert.deepEqual(exec.params.args, ['/dev/null']);
    assert.equal(exec.params.comm, 'cat');
    const open = evs.filter((e) => e.type === 'open' && e.dir === '<').at(-1)!;
    assert.deepEqual(
      { fd: open.params.fd, name: open.params.name, flags: open.params.flags },
      { fd: 3, name: '/dev/null', flags: 1 },
    );
    assert.ok(evs.every((e, i) => i === 0 || e.ts >= evs[i - 1]!.ts || e.cpu !== evs[i - 1]!.cpu));
  });

  it('syscall.scap (PL V8) and connect_localhost.scap (socket tuples)', async () => {
    const s = await readScapFile(`${TF}/syscall.scap`);
    assert.equal(s.counts.skippedProcLists, 0);
    assert.equal(s.processes.find((p) => p.tid === 1)?.exepath, '/lib/systemd/systemd');
    const c = await readScapFile(`${TF}/connect_localhost.scap`);
    const conn = [...c.events()].find((e) => e.type === 'connect' && e.dir === '<')!;
    assert.deepEqual(conn.params.tuple, {
      family: 'inet',
      sip: '127.0.0.1',
      sport: 47192,
      dip: '127.0.0.1',
      dport: 80,
    });
  });

  it('generic syscall events are named by their native number (madvise)', async () => {
    const c = await readScapFile(`${TF}/syscall.scap`);
    const evs = [...c.events()];
    assert.equal(evs.filter((e) => e.type === 'madvise').length, 4);
    const cw = [...(await readScapFile(`${TF}/cat_write.scap`)).events()];
    assert.deepEqual(
      cw.filter((e) => e.code === 0).map((e) => e.type),
      ['mprotect', 'arch_prctl', 'mprotect', 'mprotect', 'mprotect', 'fadvise64', 'exit_group'],
    );
  });

  it('rejects truncated and non-capture input with ScapError', () => {
    const raw = gunzipSync(readFileSync(`${TF}/cat_write.scap`));
    assert.throws(() => parseScap(raw.subarray(0, raw.length - 10)), ScapError);
    assert.throws(() => parseScap(Buffer.from('not a capture file at all, sorry')), ScapError);
  });
});
