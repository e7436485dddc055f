/**
 * `bulwark profile list|show|export`: the behaviour profiles an agent learned (#10), one YAML file
 * per workload in the profile directory (`bulwark agent --profiles DIR`).
 *
 *   bulwark profile list   [-p DIR] [-f table|json] [-o FILE]
 *   bulwark profile show   WORKLOAD [-p DIR] [-f text|yaml|json] [-o FILE]
 *   bulwark profile export WORKLOAD [-p DIR] [--seccomp] [-o FILE]   the profile's YAML, or a seccomp profile (OCI JSON)
 *
 * WORKLOAD: the workload id, the profile's file name (with or without .yaml), or a container name
 * that only one workload has. Every file is validated on load: problems go to stderr as
 * file:line:column and the command exits 1.
 */
import { Option, type Command } from 'commander';
import { BulwarkError } from '../core/errors.js';
import type { CliContext } from './context.js';
import { openOutput } from './output.js';

/** The profile directory: -p, else $BULWARK_PROFILES, else /var/lib/bulwark/profiles. */
export function profileDir(given?: string): string {
  return given ?? process.env.BULWARK_PROFILES ?? '/var/lib/bulwark/profiles';
}

async function load(dir: string) {
  const prof = await import('../runtime/profile/index.js');
  try {
    return { prof, loaded: prof.loadProfileDir(dir) };
  } catch (e) {
    if (e instanceof prof.ProfileError) {
      for (const i of e.issues)
        process.stderr.write(`${i.file}:${i.line}:${i.column}: error: ${i.message}\n`);
      throw new BulwarkError('PARSE', `${e.issues.length} problem(s) in the profiles of ${dir}`, {
        subject: dir,
      });
    }
    throw new BulwarkError(
      'NOT_FOUND',
      `cannot read ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      {
        subject: dir,
      },
    );
  }
}

async function find(dir: string, q: string) {
  const { prof, loaded } = await load(dir);
  const f = prof.findProfile(loaded, q);
  if ('error' in f) throw new BulwarkError('NOT_FOUND', `${f.error} in ${dir}`, { subject: q });
  return { prof, ...f };
}

async function write(file: string | undefined, text: string): Promise<void> {
  const out = await openOutput(file);
  out.stream.write(text);
  await out.close();
}

const dirOption = () =>
  new Option(
    '-p, --profiles <dir>',
    'profile directory (default: $BULWARK_PROFILES or /var/lib/bulwark/profiles)',
  );

export function register(ctx: CliContext): void {
  const cmd = (ctx.program as Command)
    .command('profile')
    .description('behaviour profiles learned by the agent: list, show, export (YAML or seccomp)');

  cmd
    .command('list')
    .description(
      'the workloads with a profile: mode, counts of executables, directories, endpoints, syscalls',
    )
    .addOption(dirOption())
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .action(async (o: { profiles?: string; format: 'table' | 'json'; output?: string }) => {
      const dir = profileDir(o.profiles);
      const { loaded } = await load(dir);
      const rows = [...loaded.profiles].map(([id, p]) => ({
        workload: id,
        file: loaded.files.get(id)!,
        mode: p.mode,
        zeroDrift: p.zeroDrift,
        executables: p.executables.length,
        filesWritten: p.filesWritten.length,
        outbound: p.outbound.length,
        listening: p.listening.length,
        syscalls: p.syscalls.length,
        updated: p.updated ?? null,
      }));
      rows.sort((a, b) => (a.workload < b.workload ? -1 : 1));
      if (o.format === 'json') return write(o.output, JSON.stringify(rows, null, 2) + '\n');
      const head = ['WORKLOAD', 'MODE', 'EXES', 'DIRS', 'OUT', 'LISTEN', 'SYSCALLS', 'UPDATED'];
      const body = rows.map((r) => [
        r.workload,
        r.mode + (r.zeroDrift ? '+zero-drift' : ''),
        String(r.executables),
        String(r.filesWritten),
        String(r.outbound),
        String(r.listening),
        String(r.syscalls),
        r.updated ?? '-',
      ]);
      const w = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
      const line = (r: string[]) =>
        r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]!))).join('  ') + '\n';
      await write(o.output, rows.length ? line(head) + body.map(line).join('') : `no profiles in ${dir}\n`);
    });

  cmd
    .command('show')
    .description("one workload's profile: a summary, or the YAML / JSON")
    .argument('<workload>', 'workload id, profile file name, or container name')
    .addOption(dirOption())
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['text', 'yaml', 'json']).default('text'),
    )
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .action(
      async (q: string, o: { profiles?: string; format: 'text' | 'yaml' | 'json'; output?: string }) => {
        const { prof, id, p, file } = await find(profileDir(o.profiles), q);
        if (o.format === 'yaml') return write(o.output, prof.profileToYaml(p));
        if (o.format === 'json') return write(o.output, JSON.stringify({ id, file, ...p }, null, 2) + '\n');
        const lines = [
          `workload:   ${id}`,
          `file:       ${file}`,
          `mode:       ${p.mode}${p.zeroDrift ? ' (zero-drift)' : ''}`,
          ...(p.updated ? [`updated:    ${p.updated}`] : []),
          `executables (${p.executables.length}):`,
          ...p.executables.map(
            (e) =>
              `  ${e.path}  uid ${e.uids.join(',') || '-'}  parent ${e.parents.join(',') || '-'}${e.sha256 ? `  sha256:${e.sha256.slice(0, 12)}` : ''}`,
          ),
          `files written in (${p.filesWritten.length}): ${p.filesWritten.join(' ')}`,
          `outbound (${p.outbound.length}): ${p.outbound.join(' ')}`,
          `listening (${p.listening.length}): ${p.listening.join(' ')}`,
          `syscalls (${p.syscalls.length}): ${p.syscalls.join(' ')}`,
        ];
        await write(o.output, lines.join('\n') + '\n');
      },
    );

  cmd
    .command('export')
    .description(
      "a workload's profile as YAML, or with --seccomp as a seccomp profile (OCI / Kubernetes Localhost JSON)",
    )
    .argument('<workload>', 'workload id, profile file name, or container name')
    .addOption(dirOption())
    .option('--seccomp', 'a seccomp profile allowing the learned syscalls, EPERM for the rest')
    .option('-o, --output <file>', 'write to FILE instead of standard output')
    .action(async (q: string, o: { profiles?: string; seccomp?: boolean; output?: string }) => {
      const { prof, id, p } = await find(profileDir(o.profiles), q);
      if (!o.seccomp) return write(o.output, prof.profileToYaml(p));
      if (!p.syscalls.length)
        throw new BulwarkError(
          'USAGE',
          `the profile of ${id} has no syscalls yet: learn it in discover mode first`,
        );
      const { profile, skipped } = prof.toSeccomp(p);
      if (skipped.length)
        process.stderr.write(
          `bulwark profile: not in the x86_64 name table, left out: ${skipped.join(', ')}\n`,
        );
      await write(o.output, JSON.stringify(profile, null, 2) + '\n');
    });
}
