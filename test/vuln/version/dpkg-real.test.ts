/**
 * Cross-checks the dpkg scheme against this machine's real `dpkg --compare-versions` on a few
 * hundred generated version pairs. All pairs go through one shell process (a loop calling dpkg),
 * so the test costs one spawn from node and stays fast.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { schemes } from '../../../src/vuln/version/index.js';

/** Small deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  '0',
  '1',
  '2',
  '9',
  '10',
  '01',
  '.',
  '.',
  '+',
  '~',
  '~',
  'a',
  'b',
  'z',
  'A',
  'Z',
  'rc',
  'dfsg',
  'deb12u',
  'ubuntu',
  'git',
];

/** Versions dpkg accepts without error: upstream starts with a digit, non-empty revision. */
function generate(r: () => number): string {
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)]!;
  let upstream = pick(['0', '1', '2', '10']);
  for (let n = Math.floor(r() * 5); n > 0; n--) upstream += pick(PIECES);
  let v = upstream;
  if (r() < 0.5) {
    let rev = pick(['0', '1', '2', '1ubuntu', '1+deb12u']);
    for (let n = Math.floor(r() * 3); n > 0; n--) rev += pick(PIECES.filter((p) => p !== '-'));
    v += `-${rev}`;
  }
  if (r() < 0.2) v = `${pick(['0', '1', '2'])}:${v}`;
  return v;
}

test('dpkg scheme agrees with the real dpkg --compare-versions on 400 generated pairs', (t) => {
  if (spawnSync('dpkg', ['--version']).status !== 0) {
    t.skip('dpkg is not installed on this machine');
    return;
  }
  const r = rng(20240611);
  const pairs: Array<[string, string]> = [];
  while (pairs.length < 400) {
    const a = generate(r);
    // A third of the pairs share a prefix, so the interesting tails (~, +, letters) are compared.
    const b = r() < 0.33 ? a.replace(/.$/, '') + generate(r).slice(-1) : generate(r);
    if (/-$/.test(b)) continue;
    pairs.push([a, b]);
  }
  const script =
    'while read -r a b; do if dpkg --compare-versions "$a" lt "$b"; then echo lt; ' +
    'elif dpkg --compare-versions "$a" eq "$b"; then echo eq; else echo gt; fi; done';
  const res = spawnSync('sh', ['-c', script], {
    input: pairs.map(([a, b]) => `${a} ${b}\n`).join(''),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(res.status, 0, res.stderr);
  const answers = res.stdout.trim().split('\n');
  assert.equal(answers.length, pairs.length, res.stderr);
  const word = (n: number): string => (n < 0 ? 'lt' : n > 0 ? 'gt' : 'eq');
  const mismatches = pairs
    .map(([a, b], i) => ({ a, b, dpkg: answers[i], ours: word(schemes.dpkg!.compare(a, b)) }))
    .filter((m) => m.dpkg !== m.ours);
  assert.deepEqual(mismatches, []);
  // The generator must produce all three outcomes, or the test proves little.
  for (const w of ['lt', 'eq', 'gt']) assert.ok(answers.includes(w), `no "${w}" pair generated`);
});
