/**
 * Behaviour profiles in the console (#10): the workloads the node agents hold profiles for (mode,
 * learned items, deviations, responses), one workload's profile with its deviations and responses,
 * the mode switch (operators; the agents pull it), undoing a response (a command the agent of the
 * response's node pulls and carries out), and the pull itself (`bulwark agent --server`, on each
 * heartbeat). Every change is audited.
 */
import { z } from 'zod';
import { actorName, audit, type Principal } from '../auth.js';
import type { ServerContext } from '../context.js';
import { HttpError, IdParams } from '../http.js';
import { msg } from '../messages.js';
import { indexWorkloadEvents, PROFILE_MODES, type ProfileCounts, type ReportedProfile } from '../profiles.js';

const Mode = z.enum(PROFILE_MODES);
const Counts = z.object({
  executables: z.number().int(),
  filesWritten: z.number().int(),
  outbound: z.number().int(),
  listening: z.number().int(),
  syscalls: z.number().int(),
});
const Desired = z
  .object({ mode: Mode, setBy: z.string(), setAt: z.string() })
  .nullable()
  .meta({ description: 'the mode an operator set (null: the agents’ own)' });
const WorkloadRow = z
  .object({
    cluster: z.string(),
    workload: z.string(),
    ref: z.record(z.string(), z.string()),
    mode: z.string().meta({ description: 'the mode the agents report (mixed: they differ)' }),
    modes: z.record(z.string(), z.string()).meta({ description: 'node → mode reported' }),
    desired: Desired,
    counts: Counts,
    deviations: z.number().int(),
    responses: z.number().int(),
    lastReport: z.string().nullable(),
  })
  .meta({ id: 'RuntimeWorkload' });

const ResponseState = z.enum([
  'active',
  'undoing',
  'undone',
  'undo-failed',
  'ended',
  'done',
  'failed',
  'skipped',
]);
const ResponseOut = z
  .object({
    id: z.number().int().meta({ description: 'the event row (GET /api/runtime/events/:id)' }),
    eventId: z.string(),
    time: z.string(),
    node: z.string(),
    containerId: z.string(),
    action: z.string(),
    status: z.string(),
    policy: z.string(),
    latencyMs: z.number().nullable(),
    reversible: z.boolean(),
    undoes: z.string(),
    error: z.string(),
    output: z.string(),
    state: ResponseState.meta({
      description:
        'active (in force: can be undone), undoing (an undo waits for the agent), undone, undo-failed, ended (the agent had it no longer in force); done (not reversible), failed, skipped',
    }),
    undoneBy: z
      .object({ eventId: z.string(), action: z.string(), status: z.string(), automatic: z.boolean() })
      .optional(),
    command: z
      .object({
        id: z.number().int(),
        state: z.string(),
        createdBy: z.string(),
        createdAt: z.string(),
        error: z.string().nullable(),
        resultEvent: z
          .string()
          .nullable()
          .meta({ description: 'the agent’s response event carrying it out' }),
      })
      .optional(),
  })
  .meta({ id: 'RuntimeResponse' });

const WorkloadQuery = z.object({
  cluster: z.string().max(253).default(''),
  workload: z.string().min(1).max(1000),
});

/** A cluster token acts on its own cluster only. */
function clusterOf(p: Principal, asked: string | undefined): string {
  if (p.cluster) {
    if (asked && asked !== p.cluster)
      throw new HttpError(
        403,
        'WRONG_CLUSTER',
        msg('command.wrongCluster', { cluster: asked, token: p.cluster }),
      );
    return p.cluster;
  }
  return asked ?? '';
}

export function profileRoutes(s: ServerContext): void {
  const { router, db } = s;
  s.onRuntimeStored.push(indexWorkloadEvents);

  const modeRow = async (cluster: string, workload: string) =>
    db
      .selectFrom('runtime_modes')
      .selectAll()
      .where('cluster', '=', cluster)
      .where('workload', '=', workload)
      .executeTakeFirst();

  router.add({
    method: 'GET',
    url: '/api/runtime/workloads',
    tag: 'runtime',
    access: 'viewer',
    summary:
      'Workloads with behaviour profiles: the mode the agents hold each in (and the one an operator set), counts of learned items, deviations and responses',
    query: z.object({
      cluster: z.string().max(253).optional(),
      q: z.string().max(200).optional().meta({ description: 'text in the workload id' }),
    }),
    response: z.object({ items: z.array(WorkloadRow) }),
    async handler({ query }) {
      let pq = db
        .selectFrom('runtime_profiles')
        .select(['cluster', 'node', 'workload', 'mode', 'reported_at', 'counts', 'profile']);
      if (query.cluster !== undefined) pq = pq.where('cluster', '=', query.cluster);
      let eq = db
        .selectFrom('runtime_workload_events')
        .select((eb) => ['cluster', 'workload', 'kind', eb.fn.countAll<number>().as('n')])
        .where('workload', '!=', '')
        .where('undoes', '=', '')
        .groupBy(['cluster', 'workload', 'kind']);
      if (query.cluster !== undefined) eq = eq.where('cluster', '=', query.cluster);
      const out = new Map<string, z.input<typeof WorkloadRow>>();
      const row = (cluster: string, workload: string) => {
        const k = `${cluster}\0${workload}`;
        let r = out.get(k);
        if (!r) {
          r = {
            cluster,
            workload,
            ref: {},
            mode: '',
            modes: {},
            desired: null,
            counts: { executables: 0, filesWritten: 0, outbound: 0, listening: 0, syscalls: 0 },
            deviations: 0,
            responses: 0,
            lastReport: null,
          };
          out.set(k, r);
        }
        return r;
      };
      for (const p of await pq.orderBy('reported_at').execute()) {
        const r = row(p.cluster, p.workload);
        r.modes[p.node] = p.mode;
        // the latest report's counts and reference (ordered by time)
        r.counts = JSON.parse(p.counts) as ProfileCounts;
        r.ref = (JSON.parse(p.profile) as ReportedProfile).workloadRef as Record<string, string>;
        r.lastReport = p.reported_at;
      }
      for (const e of await eq.execute()) {
        const r = row(e.cluster, e.workload);
        if (e.kind === 'deviation') r.deviations = Number(e.n);
        else r.responses = Number(e.n);
      }
      for (const m of await db.selectFrom('runtime_modes').selectAll().execute()) {
        const r = out.get(`${m.cluster}\0${m.workload}`);
        if (r) r.desired = { mode: m.mode as z.infer<typeof Mode>, setBy: m.set_by, setAt: m.set_at };
      }
      let items = [...out.values()];
      for (const r of items) {
        const ms = new Set(Object.values(r.modes));
        r.mode = ms.size === 1 ? [...ms][0]! : ms.size ? 'mixed' : '';
      }
      if (query.q) {
        const q = query.q.toLowerCase();
        items = items.filter((r) => r.workload.toLowerCase().includes(q));
      }
      items.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.workload.localeCompare(b.workload));
      return { items };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/runtime/workload',
    tag: 'runtime',
    access: 'viewer',
    summary:
      'One workload: its profile as each node reported it, the latest in full, its deviations and the responses taken with their state',
    query: WorkloadQuery,
    response: z.object({
      cluster: z.string(),
      workload: z.string(),
      desired: Desired,
      nodes: z.array(
        z.object({ node: z.string(), mode: z.string(), reportedAt: z.string(), counts: Counts }),
      ),
      profile: z.record(z.string(), z.unknown()).nullable(),
      deviations: z.array(
        z.object({
          id: z.number().int(),
          time: z.string(),
          node: z.string(),
          containerId: z.string(),
          type: z.string(),
          value: z.string(),
          reason: z.string(),
          mode: z.string(),
          action: z.string(),
          output: z.string(),
        }),
      ),
      responses: z.array(ResponseOut),
    }),
    async handler({ query }) {
      const { cluster, workload } = query;
      const profs = await db
        .selectFrom('runtime_profiles')
        .selectAll()
        .where('cluster', '=', cluster)
        .where('workload', '=', workload)
        .orderBy('reported_at', 'desc')
        .execute();
      const evs = await db
        .selectFrom('runtime_workload_events as w')
        .innerJoin('runtime_events as e', 'e.id', 'w.event_row')
        .select([
          'w.event_row',
          'w.event_id',
          'w.kind',
          'w.node',
          'w.action',
          'w.status',
          'w.reversible',
          'w.undoes',
          'e.time',
          'e.output',
          'e.container_id',
          'e.body',
        ])
        .where('w.cluster', '=', cluster)
        .where('w.workload', '=', workload)
        .orderBy('w.time', 'desc')
        .orderBy('w.event_row', 'desc')
        .limit(500)
        .execute();
      if (!profs.length && !evs.length)
        throw new HttpError(404, 'NOT_FOUND', msg('workload.notFound', { workload, cluster }));
      const m = await modeRow(cluster, workload);
      const resp = evs.filter((e) => e.kind === 'response');
      const ids = resp.filter((e) => !e.undoes).map((e) => e.event_id);
      const undos = ids.length
        ? await db
            .selectFrom('runtime_workload_events as w')
            .innerJoin('runtime_events as e', 'e.id', 'w.event_row')
            .select(['w.event_id', 'w.undoes', 'w.action', 'w.status', 'e.body'])
            .where('w.undoes', 'in', ids)
            .orderBy('w.event_row')
            .execute()
        : [];
      // a done undo wins over a failed or skipped one
      const undoOf = new Map<string, (typeof undos)[number]>();
      for (const u of undos) if (undoOf.get(u.undoes)?.status !== 'done') undoOf.set(u.undoes, u);
      const cmds = ids.length
        ? await db
            .selectFrom('runtime_commands')
            .selectAll()
            .where('target', 'in', ids)
            .orderBy('id')
            .execute()
        : [];
      const cmdOf = new Map(cmds.map((c) => [c.target, c] as const));
      const body = (b: string) => JSON.parse(b) as Record<string, any>;
      return {
        cluster,
        workload,
        desired: m ? { mode: m.mode as z.infer<typeof Mode>, setBy: m.set_by, setAt: m.set_at } : null,
        nodes: profs.map((p) => ({
          node: p.node,
          mode: p.mode,
          reportedAt: p.reported_at,
          counts: JSON.parse(p.counts) as ProfileCounts,
        })),
        profile: profs[0] ? (JSON.parse(profs[0].profile) as Record<string, unknown>) : null,
        deviations: evs
          .filter((e) => e.kind === 'deviation')
          .slice(0, 200)
          .map((e) => {
            const b = body(e.body);
            return {
              id: e.event_row,
              time: (b.time as string) ?? e.time,
              node: e.node,
              containerId: e.container_id,
              type: String(b.deviation?.type ?? ''),
              value: String(b.deviation?.value ?? ''),
              reason: String(b.deviation?.reason ?? ''),
              mode: String(b.mode ?? ''),
              action: String(b.action ?? ''),
              output: e.output,
            };
          }),
        responses: resp.slice(0, 200).map((e) => {
          const r = (body(e.body).response ?? {}) as Record<string, any>;
          const u = undoOf.get(e.event_id);
          const c = cmdOf.get(e.event_id);
          let state: z.infer<typeof ResponseState>;
          if (e.undoes || e.status !== 'done')
            state = e.status === 'done' ? 'done' : (e.status as 'failed' | 'skipped');
          else if (!e.reversible) state = 'done';
          else if (u) state = u.status === 'done' ? 'undone' : u.action === 'undo' ? 'ended' : 'undo-failed';
          else if (c?.state === 'pending') state = 'undoing';
          else state = 'active';
          return {
            id: e.event_row,
            eventId: e.event_id,
            time: e.time,
            node: e.node,
            containerId: e.container_id,
            action: e.action,
            status: e.status,
            policy: String(r.policy ?? ''),
            latencyMs: typeof r.latencyMs === 'number' ? r.latencyMs : null,
            reversible: e.reversible === 1,
            undoes: e.undoes,
            error: String(r.error ?? ''),
            output: e.output,
            state,
            ...(u
              ? {
                  undoneBy: {
                    eventId: u.event_id,
                    action: u.action,
                    status: u.status,
                    automatic: body(u.body).response?.automatic === true,
                  },
                }
              : {}),
            ...(c
              ? {
                  command: {
                    id: c.id,
                    state: c.state,
                    createdBy: c.created_by,
                    createdAt: c.created_at,
                    error: c.error,
                    resultEvent: c.result_event,
                  },
                }
              : {}),
          };
        }),
      };
    },
  });

  router.add({
    method: 'PUT',
    url: '/api/runtime/workloads/mode',
    tag: 'runtime',
    access: 'operator',
    summary:
      "Sets a workload's mode (discover, monitor, protect) for every agent of its cluster: they pull it with their next heartbeat and apply it without a restart (audited)",
    body: WorkloadQuery.extend({ mode: Mode }),
    response: z.object({
      cluster: z.string(),
      workload: z.string(),
      mode: Mode,
      setBy: z.string(),
      setAt: z.string(),
    }),
    async handler({ body, principal }) {
      const cluster = clusterOf(principal, body.cluster);
      const { workload, mode } = body;
      const reported = await db
        .selectFrom('runtime_profiles')
        .select(['node', 'mode'])
        .where('cluster', '=', cluster)
        .where('workload', '=', workload)
        .execute();
      if (!reported.length)
        throw new HttpError(404, 'NOT_FOUND', msg('workload.notFound', { workload, cluster }));
      const prev = await modeRow(cluster, workload);
      const who = actorName(principal);
      const at = new Date().toISOString();
      const row = { cluster, workload, mode, set_by: who, set_at: at };
      await db
        .insertInto('runtime_modes')
        .values(row)
        .onConflict((oc) =>
          oc.columns(['cluster', 'workload']).doUpdateSet({ mode, set_by: who, set_at: at }),
        )
        .execute();
      await audit(db, who, 'profile.mode', `workload:${cluster ? `${cluster}/` : ''}${workload}`, {
        cluster,
        workload,
        from: prev?.mode ?? [...new Set(reported.map((r) => r.mode))].join(','),
        to: mode,
      });
      return { cluster, workload, mode, setBy: who, setAt: at };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/runtime/events/:id/undo',
    tag: 'runtime',
    access: 'operator',
    status: 202,
    summary:
      'Undoes a response (pause → resume, quarantine → release, capture → stopped): a command the agent of its node pulls and carries out, reporting the result as a response event (audited)',
    params: IdParams,
    response: z.object({
      command: z.object({ id: z.number().int(), state: z.string(), node: z.string(), target: z.string() }),
    }),
    async handler({ params, principal }) {
      const e = await db
        .selectFrom('runtime_workload_events')
        .selectAll()
        .where('event_row', '=', params.id)
        .executeTakeFirst();
      if (!e) {
        const any = await db
          .selectFrom('runtime_events')
          .select('id')
          .where('id', '=', params.id)
          .executeTakeFirst();
        if (!any) throw new HttpError(404, 'NOT_FOUND', msg('runtime.notFound', { id: params.id }));
      }
      if (!e || e.kind !== 'response' || e.undoes || !e.reversible || e.status !== 'done')
        throw new HttpError(409, 'NOT_REVERSIBLE', msg('response.notReversible', { id: params.id }));
      if (principal.cluster && principal.cluster !== e.cluster)
        throw new HttpError(
          403,
          'WRONG_CLUSTER',
          msg('command.wrongCluster', { cluster: e.cluster, token: principal.cluster }),
        );
      const undone = await db
        .selectFrom('runtime_workload_events')
        .select('event_id')
        .where('undoes', '=', e.event_id)
        .where('status', '=', 'done')
        .executeTakeFirst();
      if (undone)
        throw new HttpError(409, 'ALREADY_UNDONE', msg('response.alreadyUndone', { id: params.id }));
      const pending = await db
        .selectFrom('runtime_commands')
        .select('id')
        .where('target', '=', e.event_id)
        .where('state', '=', 'pending')
        .executeTakeFirst();
      if (pending)
        throw new HttpError(
          409,
          'UNDO_PENDING',
          msg('response.undoPending', { id: params.id, node: e.node }),
        );
      const who = actorName(principal);
      const c = await db
        .insertInto('runtime_commands')
        .values({
          cluster: e.cluster,
          node: e.node,
          action: 'undo',
          target: e.event_id,
          state: 'pending',
          created_by: who,
          created_at: new Date().toISOString(),
          pulled_at: null,
          done_at: null,
          result_event: null,
          error: null,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(db, who, 'response.undo', `response:${e.event_id}`, {
        cluster: e.cluster,
        node: e.node,
        action: e.action,
        workload: e.workload,
        command: c.id,
      });
      return { command: { id: c.id, state: 'pending', node: e.node, target: e.event_id } };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/runtime/agents/commands',
    tag: 'runtime',
    access: 'operator',
    summary:
      "What a node agent pulls on each heartbeat: the modes operators set for its cluster's workloads and the commands waiting for it (undo a response)",
    query: z.object({ node: z.string().min(1).max(253), cluster: z.string().max(253).optional() }),
    response: z.object({
      modes: z.array(z.object({ workload: z.string(), mode: Mode, setAt: z.string() })),
      commands: z.array(
        z.object({
          id: z.number().int(),
          action: z.literal('undo'),
          response: z.string(),
          createdAt: z.string(),
        }),
      ),
    }),
    async handler({ query, principal }) {
      const cluster = clusterOf(principal, query.cluster);
      const modes = await db
        .selectFrom('runtime_modes')
        .select(['workload', 'mode', 'set_at'])
        .where('cluster', '=', cluster)
        .orderBy('workload')
        .execute();
      const cmds = await db
        .selectFrom('runtime_commands')
        .select(['id', 'target', 'created_at'])
        .where('cluster', '=', cluster)
        .where('node', '=', query.node)
        .where('state', '=', 'pending')
        .orderBy('id')
        .limit(100)
        .execute();
      if (cmds.length)
        await db
          .updateTable('runtime_commands')
          .set({ pulled_at: new Date().toISOString() })
          .where(
            'id',
            'in',
            cmds.map((c) => c.id),
          )
          .execute();
      return {
        modes: modes.map((m) => ({
          workload: m.workload,
          mode: m.mode as z.infer<typeof Mode>,
          setAt: m.set_at,
        })),
        commands: cmds.map((c) => ({
          id: c.id,
          action: 'undo' as const,
          response: c.target,
          createdAt: c.created_at,
        })),
      };
    },
  });
}
