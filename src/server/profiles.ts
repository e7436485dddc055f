/**
 * Behaviour profiles in the console (#10): node agents report the profile of each workload they
 * hold (`kind: 'profile'` items in POST /api/runtime/events, sent with their heartbeat; the latest
 * per cluster + node + workload is kept), deviation and response events are indexed by workload as
 * they are stored, and the console's commands (undo a response) are marked done when the agent's
 * response event carrying one out arrives. See api/profiles.ts for the routes.
 */
import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from './db/index.js';
import { workloadEventRow } from './db/migrations.js';
import type { StoredRuntimeEvent } from './runtime.js';

export const PROFILE_MODES = ['discover', 'monitor', 'protect'] as const;
export type ProfileMode = (typeof PROFILE_MODES)[number];

const Str = (max: number) => z.string().max(max);
const List = z.array(Str(4096)).max(10_000);

/** The profile part of a report (src/agent/control.ts profileReport). */
export const ReportedProfile = z.object({
  workload: Str(1000).min(1).meta({ description: 'the workload id (runtime/profile workloadId)' }),
  workloadRef: z.object({
    container: Str(253),
    namespace: Str(253).optional(),
    controller: Str(600).optional(),
    image: Str(1000).optional(),
    imageDigest: Str(200).optional(),
  }),
  mode: z.enum(PROFILE_MODES).meta({ description: 'the mode the agent holds the workload in' }),
  zeroDrift: z.boolean().default(false),
  executables: z
    .array(
      z.object({
        path: Str(4096),
        aliases: z.array(Str(4096)).max(64).optional(),
        sha256: Str(64).optional(),
        parents: z.array(Str(4096)).max(256).default([]),
        uids: z.array(z.number().int()).max(256).default([]),
      }),
    )
    .max(10_000),
  filesWritten: List,
  outbound: List,
  listening: List,
  syscalls: List,
  learnedSince: Str(40).optional(),
  updated: Str(40).optional(),
});
export type ReportedProfile = z.output<typeof ReportedProfile>;

export const ProfileReportIn = z.object({
  id: Str(200).min(1),
  kind: z.literal('profile'),
  time: z.iso.datetime({ offset: true }),
  node: Str(253).min(1),
  cluster: Str(253).optional(),
  profile: ReportedProfile,
});
export type PostedProfile = z.output<typeof ProfileReportIn>;

export interface ProfileCounts {
  executables: number;
  filesWritten: number;
  outbound: number;
  listening: number;
  syscalls: number;
}

export function countsOf(p: ReportedProfile): ProfileCounts {
  return {
    executables: p.executables.length,
    filesWritten: p.filesWritten.length,
    outbound: p.outbound.length,
    listening: p.listening.length,
    syscalls: p.syscalls.length,
  };
}

/**
 * Keeps the latest report per cluster + node + workload: an older report re-sent from an agent's
 * buffer never overwrites a newer one. Returns how many were stored.
 */
export async function storeProfiles(
  db: Kysely<Database>,
  reports: PostedProfile[],
  submittedBy: string,
): Promise<number> {
  const receivedAt = new Date().toISOString();
  let n = 0;
  for (const r of reports) {
    const cluster = r.cluster ?? '';
    const time = new Date(r.time).toISOString();
    const row = {
      cluster,
      node: r.node,
      workload: r.profile.workload,
      mode: r.profile.mode,
      reported_at: time,
      received_at: receivedAt,
      submitted_by: submittedBy,
      counts: JSON.stringify(countsOf(r.profile)),
      profile: JSON.stringify(r.profile),
    };
    const prev = await db
      .selectFrom('runtime_profiles')
      .select(['id', 'reported_at'])
      .where('cluster', '=', cluster)
      .where('node', '=', r.node)
      .where('workload', '=', r.profile.workload)
      .executeTakeFirst();
    if (prev && prev.reported_at > time) continue;
    if (prev) await db.updateTable('runtime_profiles').set(row).where('id', '=', prev.id).execute();
    else
      await db
        .insertInto('runtime_profiles')
        .values(row)
        .onConflict((oc) => oc.columns(['cluster', 'node', 'workload']).doUpdateSet(row))
        .execute();
    n++;
  }
  return n;
}

/**
 * Indexes the deviation and response events of a stored batch by workload (inside the batch's
 * transaction), and marks the console commands the responses carried out (`response.command`).
 */
export async function indexWorkloadEvents(stored: StoredRuntimeEvent[], tx: Kysely<Database>): Promise<void> {
  const rows = stored
    .filter((s) => s.event.kind === 'deviation' || s.event.kind === 'response')
    .map((s) =>
      workloadEventRow(
        s.row,
        s.event.id,
        s.event.kind,
        s.event.cluster ?? '',
        s.event.node,
        new Date(s.event.time).toISOString(),
        s.event as Record<string, unknown>,
      ),
    );
  for (let i = 0; i < rows.length; i += 500)
    await tx
      .insertInto('runtime_workload_events')
      .values(rows.slice(i, i + 500))
      .execute();
  const now = new Date().toISOString();
  for (const r of rows) {
    if (r.kind !== 'response' || r.command === null) continue;
    const err = (stored.find((s) => s.row === r.event_row)?.event.response as { error?: unknown } | undefined)
      ?.error;
    await tx
      .updateTable('runtime_commands')
      .set({
        state: r.status === 'done' ? 'done' : r.status === 'skipped' ? 'skipped' : 'failed',
        done_at: now,
        result_event: r.event_id,
        error: typeof err === 'string' ? err.slice(0, 2000) : null,
      })
      .where('id', '=', r.command)
      .where('state', '=', 'pending')
      .execute();
  }
}
