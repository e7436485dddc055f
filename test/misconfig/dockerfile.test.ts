/**
 * Dockerfile parser: corner cases of the Dockerfile grammar (hand-written inputs, each a documented
 * behaviour of the Dockerfile reference), and the realistic fixtures in fixtures/docker.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDockerfile, splitShellCommands, substitute, splitImageRef } from '../../src/misconfig/index.js';
import { scanText } from '../policy/helpers.js';

const FIX = join(import.meta.dirname, 'fixtures', 'docker');
const read = (f: string) => readFileSync(join(FIX, f), 'utf8');

test('continuation lines join; comment and blank lines inside a continuation are dropped; lines are kept', () => {
  const df = parseDockerfile(
    [
      'FROM debian:12',
      'RUN apt-get update && \\',
      '    # a comment inside',
      '',
      '    apt-get install -y \\',
      '      curl',
      'USER app',
    ].join('\n'),
  );
  const run = df.instructions[1]!;
  assert.equal(run.cmd, 'RUN');
  assert.equal(run.line, 2);
  assert.equal(run.endLine, 6);
  assert.deepEqual(run.commands, ['apt-get update', 'apt-get install -y curl']);
  assert.equal(df.instructions[2]!.line, 7);
  assert.equal(df.stages[0]!.user, 'app');
});

test('escape directive with backtick: continuation by `, backslashes are literal (Windows paths)', () => {
  const df = parseDockerfile(read('Dockerfile.windows'));
  assert.equal(df.escape, '`');
  assert.equal(df.directives.escape, '`');
  const run = df.instructions.find((i) => i.cmd === 'RUN')!;
  assert.equal(run.line, 5);
  assert.equal(run.endLine, 7);
  assert.match(run.value, /C:\\app ;\s+Write-Host 'done'$/);
  const copy = df.instructions.find((i) => i.cmd === 'COPY')!;
  assert.deepEqual(copy.args, ['app\\', 'C:\\app\\']);
  const cmd = df.instructions.find((i) => i.cmd === 'CMD')!;
  assert.equal(cmd.json, true);
  // JSON escapes in exec form are decoded.
  assert.deepEqual(cmd.args, ['C:\\app\\app.exe', '--port', '8080']);
  const shell = df.instructions.find((i) => i.cmd === 'SHELL')!;
  assert.deepEqual(shell.args, ['powershell', '-Command', "$ErrorActionPreference = 'Stop';"]);
});

test('parser directives only at the top; a directive after a comment is a comment', () => {
  const df = parseDockerfile('# syntax=docker/dockerfile:1\n# escape=`\nFROM x\n');
  assert.deepEqual(df.directives, { syntax: 'docker/dockerfile:1', escape: '`' });
  const late = parseDockerfile('# hello\n# escape=`\nFROM x\nRUN a \\\n  b\n');
  assert.equal(late.escape, '\\');
  assert.equal(late.instructions[1]!.value, 'a   b');
  assert.throws(
    () => parseDockerfile('# escape=x\nFROM a\n', 'Dockerfile.bad'),
    /Dockerfile\.bad:1: invalid escape directive/,
  );
});

test('heredocs: <<EOF, <<-EOF (tabs stripped), quoted delimiters, several per instruction', () => {
  const df = parseDockerfile(read('Dockerfile.heredoc'));
  const [run1, copy, run2] = df.instructions.filter((i) => i.heredocs.length);
  assert.equal(run1!.heredocs[0]!.name, 'EOT');
  assert.equal(run1!.line, 3);
  assert.equal(run1!.endLine, 8);
  assert.deepEqual(run1!.commands, [
    'set -eux',
    'apt-get update',
    'apt-get install -y --no-install-recommends ca-certificates curl',
    'rm -rf /var/lib/apt/lists/*',
  ]);
  assert.equal(copy!.cmd, 'COPY');
  assert.equal(copy!.heredocs[0]!.chomp, true);
  assert.equal(copy!.heredocs[0]!.content, '[server]\nport = 8080\n');
  assert.deepEqual(copy!.args, ['<<-EOF', '/etc/app/config.ini']);
  assert.equal(run2!.heredocs[0]!.quoted, true);
  assert.equal(run2!.heredocs[0]!.name, 'SCRIPT');
  // What follows the heredocs is parsed as instructions again.
  assert.deepEqual(
    df.instructions.slice(-3).map((i) => [i.cmd, i.line]),
    [
      ['USER', 16],
      ['HEALTHCHECK', 17],
      ['CMD', 18],
    ],
  );

  const two = parseDockerfile(
    'FROM a\nCOPY <<one.txt <<two.txt /dest/\nfirst\none.txt\nsecond\ntwo.txt\nRUN x\n',
  );
  const c = two.instructions[1]!;
  assert.deepEqual(
    c.heredocs.map((h) => [h.name, h.content]),
    [
      ['one.txt', 'first\n'],
      ['two.txt', 'second\n'],
    ],
  );
  assert.equal(c.endLine, 6);
  assert.equal(two.instructions[2]!.line, 7);
  assert.throws(
    () => parseDockerfile('FROM a\nRUN <<EOF\necho\n', 'Df'),
    /Df:2: heredoc <<EOF is not terminated/,
  );
});

test('JSON vs shell form: invalid JSON falls back to shell form; HEALTHCHECK CMD exec form', () => {
  const df = parseDockerfile(
    'FROM a\nCMD ["echo", "a \\"quoted\\" \\u00e9"]\nENTRYPOINT [not json]\nHEALTHCHECK --interval=5s CMD ["curl", "-f", "http://x/"]\nHEALTHCHECK NONE\n',
  );
  const [, cmd, ep, hc, none] = df.instructions;
  assert.equal(cmd!.json, true);
  assert.deepEqual(cmd!.args, ['echo', 'a "quoted" é']);
  assert.equal(ep!.json, false);
  assert.equal(ep!.value, '[not json]');
  assert.equal(hc!.flags.interval, '5s');
  assert.deepEqual(hc!.args, ['CMD', 'curl', '-f', 'http://x/']);
  assert.equal(none!.value, 'NONE');
});

test('multi-stage FROM ... AS, --platform, ARG substitution in FROM, COPY --from', () => {
  const df = parseDockerfile(read('Dockerfile.go-multistage'));
  assert.equal(df.globalArgs.GO_VERSION, '1.22');
  assert.deepEqual(
    df.stages.map((s) => [s.name, s.image, s.repository, s.tag, s.fromStage]),
    [
      ['build', 'golang:1.22-bookworm', 'golang', '1.22-bookworm', false],
      [
        'final',
        'gcr.io/distroless/static-debian12:nonroot',
        'gcr.io/distroless/static-debian12',
        'nonroot',
        false,
      ],
    ],
  );
  const run = df.instructions.find((i) => i.cmd === 'RUN')!;
  assert.match(run.flags.mount!, /type=cache,target=\/go\/pkg\/mod type=bind,source=go.sum/);
  assert.equal(df.instructions.find((i) => i.cmd === 'COPY' && i.flags.from)!.flags.from, 'build');
  assert.equal(df.stages[1]!.user, 'nonroot:nonroot');

  const p = parseDockerfile(
    'ARG BASE=alpine\nFROM --platform=$BUILDPLATFORM ${BASE}:3.19 AS Builder\nFROM builder\nFROM reg:5000/x@sha256:abc\n',
  );
  assert.equal(p.stages[0]!.platform, '$BUILDPLATFORM');
  assert.equal(p.stages[0]!.name, 'builder');
  assert.equal(p.stages[0]!.image, 'alpine:3.19');
  assert.equal(p.stages[1]!.fromStage, true);
  assert.deepEqual(splitImageRef('reg:5000/x@sha256:abc'), {
    repository: 'reg:5000/x',
    digest: 'sha256:abc',
  });
  assert.deepEqual(splitImageRef('reg:5000/x'), { repository: 'reg:5000/x' });
});

test('ARG/ENV substitution: ${VAR:-default}, ${VAR:+alt}, escaped \\$, ENV legacy form, USER from ARG', () => {
  assert.equal(substitute('${A:-x}-${B:-y}-${A:+z}-$A-\\$A', { A: '1' }), '1-y-z-1-$A');
  assert.equal(substitute('${EMPTY:-d}|${EMPTY-d}', { EMPTY: '' }), 'd|');
  const df = parseDockerfile(
    'FROM a\nARG UID=1000\nENV HOME /home/app user\nENV A=1 B="two words"\nUSER ${UID}:${GID:-1000}\nRUN echo $HOME && useradd -u $UID app\n',
  );
  assert.equal(df.stages[0]!.user, '1000:1000');
  assert.deepEqual(df.instructions.at(-1)!.commands, ['echo /home/app user', 'useradd -u 1000 app']);
});

test('shell splitting keeps quoted operators together', () => {
  assert.deepEqual(splitShellCommands(`a "x && y" && b 'c;d' ; e | f || g`), [
    'a "x && y"',
    "b 'c;d'",
    'e',
    'f',
    'g',
  ]);
});

test('ONBUILD wraps an instruction; lower-case instructions are accepted', () => {
  const df = parseDockerfile('from alpine:3\nonbuild run apk add curl\n');
  assert.equal(df.instructions[0]!.cmd, 'FROM');
  const ob = df.instructions[1]!;
  assert.equal(ob.cmd, 'ONBUILD');
  assert.equal(ob.trigger?.cmd, 'RUN');
  assert.equal(ob.trigger?.value, 'apk add curl');
});

test('realistic fixtures: the legacy Dockerfile trips the expected checks at their lines; the hardened ones are clean', () => {
  const legacy = scanText(read('Dockerfile.legacy-node'), 'Dockerfile.legacy-node', 'dockerfile');
  const at = (id: string) => legacy.filter((f) => f.id === id).map((f) => f.location.line);
  assert.deepEqual(at('BW-DF-004'), [1]);
  assert.deepEqual(at('BW-DF-016'), [2]);
  assert.deepEqual(at('BW-DF-008'), [3, 6]); // ENV NPM_TOKEN across a continuation with a comment, ARG DB_PASSWORD
  assert.deepEqual(at('BW-DF-011'), [7]);
  assert.deepEqual(at('BW-DF-007'), [8]);
  assert.deepEqual(at('BW-DF-005'), [8]);
  assert.deepEqual(at('BW-DF-009'), [10]);
  assert.deepEqual(at('BW-DF-003'), [11]);
  assert.deepEqual(at('BW-DF-017'), [12]);
  assert.deepEqual(at('BW-DF-018'), [13]);
  assert.deepEqual(at('BW-DF-010'), [14]);
  assert.deepEqual(at('BW-DF-012'), [1]);
  assert.deepEqual(at('BW-DF-001'), [1]);
  assert.ok(
    !JSON.stringify(legacy).includes('npm_0123456789abcdef'),
    'the secret value is never in a finding',
  );
  for (const f of ['Dockerfile.go-multistage', 'Dockerfile.heredoc', 'Dockerfile.windows']) {
    assert.deepEqual(
      scanText(read(f), f, 'dockerfile').map((x) => `${x.id}@${x.location.line}`),
      [],
      f,
    );
  }
});
