/** Condition compiler: libsinsp's compile (type/operator compatibility, warnings) and run cases, then the operators on real events. */
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileCondition,
  conditionToString,
  CompileError,
  expandCondition,
} from '../../src/runtime/rules/compiler.js';
import { FIELDS, type FieldDef } from '../../src/runtime/rules/fields.js';
import { parseCondition } from '../../src/runtime/rules/parser.js';
import type { SyscallEvent } from '../../src/runtime/event.js';
import { StateTracker } from '../../src/runtime/state/index.js';
import { SHARED } from '../helpers/shared.js';

const D = `${SHARED}/corpora/falco/derived`;
const jsonl = <T>(f: string): T[] =>
  readFileSync(`${D}/${f}`, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);

// the test factory's fields of libsinsp's filter_compiler.ut.cpp: constant-valued checks
const cst = (type: FieldDef['type'], v: string | Uint8Array): FieldDef => ({ type, get: () => v });
const TEST_FIELDS: Record<string, FieldDef> = {
  ...FIELDS,
  'c.true': cst('string', '1'),
  'c.false': cst('string', '0'),
  'c.buffer': cst('bytebuf', Buffer.from('HTTP/1.1')),
  'c.singlequote': cst('string', "hello 'quoted'"),
  'c.doublequote': cst('string', 'hello "quoted"'),
};

interface CompileCase {
  test: string;
  condition: string;
  expect_fail: boolean;
  expected_warnings?: string;
  expected_msg?: string;
}
interface RunCase {
  test: string;
  condition: string;
  expect_result: boolean;
}

describe('falco condition compiler (libsinsp corpus)', () => {
  it('compile cases agree (operators × field types, warnings, transformer arguments)', () => {
    const cases = jsonl<CompileCase>('libs_filter_compiler_compile_cases.jsonl');
    assert.ok(cases.length > 300);
    const bad: string[] = [];
    for (const c of cases) {
      let failed = false;
      let msg = '';
      let warnings: string[] = [];
      try {
        warnings = compileCondition(parseCondition(c.condition), { fields: TEST_FIELDS }).warnings;
      } catch (e) {
        failed = true;
        msg = (e as Error).message;
      }
      if (failed !== c.expect_fail)
        bad.push(
          `${c.test}: ${JSON.stringify(c.condition)} expected ${c.expect_fail ? 'failure' : 'success'} ${msg}`,
        );
      else if (c.expected_warnings !== undefined && warnings.length !== Number(c.expected_warnings))
        bad.push(
          `${c.test}: ${JSON.stringify(c.condition)} expected ${c.expected_warnings} warnings, got ${JSON.stringify(warnings)}`,
        );
      else if (
        c.expected_msg &&
        !c.expected_msg.endsWith(msg) &&
        !msg.includes(c.expected_msg.replace(/^filter error: /, ''))
      )
        bad.push(`${c.test}: ${JSON.stringify(c.condition)} expected message ${c.expected_msg}, got ${msg}`);
    }
    if (bad.length) console.log(bad.join('\n'));
    assert.equal(bad.length, 0, `${bad.length}/${cases.length} disagree`);
  });

  it('run cases agree (boolean evaluation, string escapes)', () => {
    const cases = jsonl<RunCase>('libs_filter_compiler_run_cases.jsonl');
    assert.ok(cases.length >= 40);
    const st = new StateTracker();
    const ev: SyscallEvent = { num: 1, ts: 0n, tid: 1, cpu: 0, type: 'openat', dir: '<', params: {} };
    const bad = cases.filter(
      (c) =>
        compileCondition(parseCondition(c.condition), { fields: TEST_FIELDS }).filter(ev, st) !==
        c.expect_result,
    );
    assert.deepEqual(
      bad.map((c) => c.condition),
      [],
    );
  });
});

describe('expansion, printing and event types', () => {
  const macros = new Map([
    ['open_read', parseCondition('evt.type in (open, openat) and evt.is_open_read=true')],
    ['never_true', parseCondition('evt.num=0')],
    ['loop_a', parseCondition('loop_b')],
    ['loop_b', parseCondition('loop_a')],
  ]);
  const lists = new Map([['shells', ['bash', 'sh']]]);

  it('expands macros and lists and prints as Falco', () => {
    const n = expandCondition(
      parseCondition('open_read and proc.name in (shells, zsh) and not never_true'),
      macros,
      lists,
    );
    assert.equal(
      conditionToString(n),
      '((evt.type in (open, openat) and evt.is_open_read = true) and proc.name in (bash, sh, zsh) and not evt.num = 0)',
    );
  });
  it('rejects undefined macros and loops', () => {
    assert.throws(
      () => expandCondition(parseCondition('nope'), macros, lists),
      /Undefined macro 'nope' used in filter/,
    );
    assert.throws(() => expandCondition(parseCondition('loop_a'), macros, lists), CompileError);
  });
  it('derives event types', () => {
    const t = (c: string) => {
      const r = compileCondition(parseCondition(c));
      return r.eventTypes ? [...r.eventTypes].sort() : undefined;
    };
    assert.deepEqual(t('evt.type in (open, openat) and proc.name = cat'), ['open', 'openat']);
    assert.deepEqual(t('evt.type = execve or evt.type = connect'), ['connect', 'execve']);
    assert.deepEqual(t('evt.type in (open, openat) and not evt.type = open'), ['openat']);
    assert.deepEqual(t('evt.type = open and evt.type = close'), []);
    assert.equal(t('proc.name = cat'), undefined);
    assert.equal(t('not evt.type = open'), undefined);
  });
});

describe('operators on real events', () => {
  const st = new StateTracker();
  st.addThread({
    tid: 10,
    pid: 10,
    ptid: 0,
    comm: 'sshd',
    exe: '/usr/sbin/sshd',
    exepath: '/usr/sbin/sshd',
    args: [],
    uid: 0,
    gid: 0,
  });
  st.addThread({
    tid: 11,
    pid: 11,
    ptid: 10,
    comm: 'bash',
    exe: 'bash',
    exepath: '/usr/bin/bash',
    args: [],
    uid: 0,
    gid: 0,
  });
  st.addThread({
    tid: 12,
    pid: 12,
    ptid: 11,
    comm: 'curl',
    exe: 'curl',
    exepath: '/usr/bin/curl',
    args: ['-k', 'https://X'],
    uid: 1000,
    gid: 1000,
  });
  const ev = (type: string, params: SyscallEvent['params'], dir: '>' | '<' = '<'): SyscallEvent => {
    const e: SyscallEvent = { num: 7, ts: 1n, tid: 12, cpu: 1, type, dir, params };
    st.process(e);
    return e;
  };
  const t = (cond: string, e: SyscallEvent) => compileCondition(parseCondition(cond)).filter(e, st);

  it('string, glob, pmatch, list and modifier operators', () => {
    const open = ev('openat', { fd: 3, dirfd: -100, name: '/home/u/.ssh/id_rsa', flags: 1, mode: 0 });
    assert.equal(t('fd.name glob /home/*/.ssh/*', open), true);
    assert.equal(t('fd.name glob /etc/*', open), false);
    assert.equal(t('fd.name pmatch (/home/u, /etc)', open), true);
    assert.equal(t('fd.name pmatch (/home/us)', open), false);
    assert.equal(t('fd.directory = /home/u/.ssh and fd.filename = id_rsa', open), true);
    assert.equal(t('fd.name icontains ID_RSA', open), true);
    assert.equal(t('fd.name contains ID_RSA', open), false);
    assert.equal(t('fd.name endswith anyof (.pem, id_rsa)', open), true);
    assert.equal(t('fd.name contains allof (.ssh, id_)', open), true);
    assert.equal(t('fd.name contains allof (.ssh, nope)', open), false);
    assert.equal(t('fd.name regex "/home/[a-z]+/\\.ssh/.*"', open), true);
    assert.equal(t('proc.name in (curl, wget) and proc.pname = bash and proc.aname[2] = sshd', open), true);
    assert.equal(t('proc.aname = sshd', open), true);
    assert.equal(t('proc.aname in (nginx)', open), false);
    assert.equal(t('proc.aname[1] = bash and proc.aname[3] exists', open), false);
    assert.equal(t('user.uid >= 1000 and user.uid < 0x10000', open), true);
    assert.equal(t('proc.cmdline = "curl -k https://X" and proc.args startswith -k', open), true);
    assert.equal(t('toupper(proc.name) = CURL and basename(fd.name) = id_rsa', open), true);
    assert.equal(t('fd.name = val(fd.name) and not proc.name = val(proc.pname)', open), true);
    assert.equal(t('evt.is_open_read = true and evt.is_open_write = false and evt.rawres = 3', open), true);
  });

  it('network fields: tuples, CIDR networks, ports, intersects', () => {
    ev('socket', { domain: 2, type: 1, proto: 0 }, '>');
    ev('socket', { fd: 4 });
    ev('connect', { fd: 4, addr: { family: 'inet', ip: '10.1.2.3', port: 443 } }, '>');
    const c = ev('connect', {
      res: 0,
      fd: 4,
      tuple: { family: 'inet', sip: '192.168.0.5', sport: 51000, dip: '10.1.2.3', dport: 443 },
    });
    assert.equal(t('fd.sip = 10.1.2.3 and fd.sport = 443 and fd.cport = 51000', c), true);
    assert.equal(t('fd.snet = 10.0.0.0/8 and not fd.snet in (192.168.0.0/16)', c), true);
    assert.equal(t('fd.net = 192.168.0.0/24', c), true);
    assert.equal(t('fd.rport in (80, 443) and fd.lport > 50000', c), true);
    assert.equal(t('fd.l4proto = tcp and fd.typechar = 4 and fd.sockfamily = ip', c), true);
    assert.equal(t('fd.port intersects (22, 443)', c), true);
    assert.equal(t('fd.name = "192.168.0.5:51000->10.1.2.3:443"', c), true);
  });

  it('buffers: bcontains and bstartswith on evt.buffer', () => {
    ev('write', { fd: 4, size: 4 }, '>');
    const w = ev('write', { res: 4, data: Buffer.from('GET / HTTP/1.1') });
    assert.equal(t('evt.buffer bcontains 48545450', w), true);
    assert.equal(t('evt.buffer bstartswith 474554', w), true);
    assert.equal(t('evt.buffer bstartswith 48545450', w), false);
    assert.equal(t('evt.buffer contains HTTP', w), true);
  });
});
