/**
 * Filter semantics against a real peer: Debian's sysdig (scripts/install-deps.sh installs it)
 * evaluates Falco filters on .scap files (`sysdig -r FILE -p '*%evt.num' FILTER`). For every
 * upstream stable rule condition (macros expanded as Falco compiles them), a set of filters on the
 * fields the rules use, and every local capture with syscalls (every macro on two of them), the set
 * of matching evt.num must equal sysdig's. Conditions that sysdig 0.29
 * cannot parse (fields added to libsinsp after it) are counted, not compared.
 */
import { execFile, execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { INTERNAL_EVENTS } from '../../src/runtime/event.js';
import { compileCondition } from '../../src/runtime/rules/compiler.js';
import { loadRules } from '../../src/runtime/rules/index.js';
import { parseCondition } from '../../src/runtime/rules/parser.js';
import { CaptureContainers, readScapFile, stateFromCapture } from '../../src/runtime/scap/index.js';
import { SHARED } from '../helpers/shared.js';

const run = promisify(execFile);
const TF = `${SHARED}/corpora/falco/falco-legacy-regression-2023-08/test/trace_files`;
const CAPTURES = ['cat_write', 'open-multiple-files', 'connect_localhost', 'ping_sendto', 'syscall'];
// macros are compared on two captures only, to keep the test quick (each comparison is a sysdig run)
const MACRO_CAPTURES = new Set(['cat_write', 'connect_localhost']);

// the fields and operators the rules lean on, on what these captures contain
const EXTRA = [
  'evt.type in (open, openat) and evt.dir = <',
  'fd.name startswith /etc',
  'fd.name glob /lib/*',
  'fd.directory = /etc',
  'fd.filename = ld.so.cache',
  'fd.typechar = f and evt.dir = >',
  'fd.type = ipv4',
  'fd.l4proto = tcp',
  'fd.sip = 127.0.0.1',
  'fd.sport = 80 or fd.cport = 80',
  'fd.rip = 127.0.0.1 and fd.lport > 1024',
  'fd.num >= 0 and fd.num < 4',
  'evt.rawres < 0',
  'evt.failed = true',
  'evt.res = SUCCESS and evt.type = close',
  'evt.is_open_read = true',
  'evt.arg.flags contains O_RDONLY',
  'proc.name = cat and proc.pname = bash',
  'proc.aname[1] = bash',
  'proc.cmdline contains /dev/null',
  'proc.exe = cat and proc.args = /dev/null',
  'user.uid = 0',
  'thread.tid = 20072',
  'proc.pid != proc.vpid',
  'evt.cpu = 0 and evt.type != procinfo',
  'container.id != host',
  'container.image startswith node',
  'evt.type = execve and evt.dir = <',
  'proc.name in (python, node, ping) and not evt.type in (read, write)',
  'fd.name contains /dev/ and fd.name endswith null',
  'fd.name icontains LD.SO',
  'fd.name pmatch (/etc, /usr/lib)',
  'evt.buffer contains ELF',
];

function sysdigPresent(): boolean {
  try {
    execFileSync('sysdig', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('filter semantics equal sysdig on the local captures', () => {
  it('stable rule and macro conditions: same evt.num sets', async () => {
    assert.ok(
      sysdigPresent(),
      'sysdig is not installed: install the Debian package "sysdig" (scripts/install-deps.sh)',
    );
    const rs = loadRules([
      { name: 'falco_rules.yaml', content: readFileSync(`${SHARED}/data/falco/falco_rules.yaml`, 'utf8') },
    ]);
    assert.deepEqual(rs.errors, []);
    const conds: [string, string][] = [
      ...EXTRA.map((c) => [`filter ${c}`, c] as [string, string]),
      ...rs.rules.map((r) => [`rule ${r.name}`, r.compiledCondition] as [string, string]),
      ...[...rs.macros].map(([n, c]) => [`macro ${n}`, c] as [string, string]),
    ];
    let agreed = 0;
    let unsupported = 0;
    let nonEmpty = 0;
    const bad: string[] = [];
    for (const name of CAPTURES) {
      const file = `${TF}/${name}.scap`;
      const cap = await readScapFile(file);
      const events = [...cap.events()];
      // two sysdig processes at a time
      const jobs = conds
        .filter(([label]) => !label.startsWith('macro ') || MACRO_CAPTURES.has(name))
        .map(([label, cond]) => async () => {
          let theirs: Set<number>;
          try {
            const r = await run('sysdig', ['-r', file, '-p', '*%evt.num', cond], { maxBuffer: 1 << 26 });
            theirs = new Set(r.stdout.split('\n').filter(Boolean).map(Number));
          } catch (e) {
            if (
              /filter error|unrecognized field|syntax error/i.test(String((e as { stderr?: string }).stderr))
            ) {
              unsupported++;
              return;
            }
            throw e;
          }
          const filter = compileCondition(parseCondition(cond)).filter;
          const containers = new CaptureContainers();
          const st = stateFromCapture(cap, { resolver: containers });
          const ours = new Set<number>();
          for (const ev of events) {
            containers.observe(ev);
            st.process(ev);
            if (!INTERNAL_EVENTS.has(ev.type) && filter(ev, st)) ours.add(ev.num);
          }
          const onlyThem = [...theirs].filter((n) => !ours.has(n));
          const onlyUs = [...ours].filter((n) => !theirs.has(n));
          if (onlyThem.length || onlyUs.length)
            bad.push(
              `${name} ${label}: sysdig only ${onlyThem.slice(0, 5)}, ours only ${onlyUs.slice(0, 5)}`,
            );
          else {
            agreed++;
            if (ours.size) nonEmpty++;
          }
        });
      const queue = [...jobs];
      await Promise.all(
        [0, 1].map(async () => {
          for (let j = queue.shift(); j; j = queue.shift()) await j();
        }),
      );
    }
    console.log(
      `sysdig comparison: ${agreed} condition x capture pairs agree (${nonEmpty} with matches), ${bad.length} differ, ${unsupported} not parseable by sysdig 0.29`,
    );
    if (bad.length) console.log(bad.join('\n'));
    assert.equal(bad.length, 0);
    assert.ok(agreed >= 400 && nonEmpty >= 40, `${agreed} agree, ${nonEmpty} non-empty`);
  });
});
