/** Registries (credentials sealed at rest), scan triggers and the job queue. */
import type { Updateable } from 'kysely';
import { z } from 'zod';
import { actorName, audit } from '../auth.js';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/index.js';
import { format, msg } from '../messages.js';
import { HttpError, IdParams, page, pagingQuery, countRows, pageOf } from '../http.js';
import { enqueue, type JobRunner } from '../jobs.js';

const RegistryOut = z
  .object({
    id: z.number().int(),
    name: z.string(),
    url: z.string(),
    username: z.string(),
    hasPassword: z.boolean(),
    caCert: z.string(),
    insecure: z.boolean(),
    repositories: z.array(z.string()),
    tagFilter: z.string(),
    scheduleMinutes: z.number().int(),
    lastScheduledAt: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'Registry' });

const Regex = z
  .string()
  .max(500)
  .refine((s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  }, 'not a valid regular expression');

const RegistryIn = z.object({
  name: z.string().min(1).max(100),
  url: z
    .string()
    .min(1)
    .max(500)
    .regex(
      /^(https?:\/\/)?[A-Za-z0-9.-]+(:\d+)?\/?$/,
      'a registry host or URL: reg.example.com:5000 or https://reg.example.com',
    ),
  username: z.string().max(200).default(''),
  password: z
    .string()
    .max(10_000)
    .default('')
    .meta({ description: 'stored encrypted (AES-256-GCM); never returned' }),
  caCert: z
    .string()
    .max(100_000)
    .default('')
    .refine((s) => !s || s.includes('-----BEGIN CERTIFICATE-----'), 'PEM certificate expected')
    .meta({ description: 'PEM CA certificate(s) to trust' }),
  insecure: z.boolean().default(false),
  repositories: z
    .array(z.string().min(1).max(300))
    .max(10_000)
    .default([])
    .meta({ description: 'empty: every repository in the catalog' }),
  tagFilter: Regex.default('').meta({ description: 'regular expression tags must match; empty: all tags' }),
  scheduleMinutes: z
    .number()
    .int()
    .min(0)
    .max(525_600)
    .default(1440)
    .meta({ description: '0: no schedule (manual and advisory DB changes only)' }),
});

const JobOut = z
  .object({
    id: z.number().int(),
    type: z.string(),
    payload: z.record(z.string(), z.unknown()),
    status: z.enum(['queued', 'running', 'succeeded', 'failed']),
    attempts: z.number().int(),
    maxAttempts: z.number().int(),
    runAfter: z.string(),
    progress: z.number().int(),
    message: z.string(),
    runner: z
      .string()
      .nullable()
      .meta({ description: 'the server process running it (host:pid:id), while it runs' }),
    createdAt: z.string(),
    updatedAt: z.string(),
    finishedAt: z.string().nullable(),
  })
  .meta({ id: 'Job' });

type RegRow = { [K in keyof Database['registries']]: K extends 'id' ? number : Database['registries'][K] };
function regOut(r: RegRow) {
  return {
    id: r.id,
    name: r.name,
    url: r.url,
    username: r.username,
    hasPassword: !!r.secret,
    caCert: r.ca_cert,
    insecure: !!r.insecure,
    repositories: JSON.parse(r.repositories) as string[],
    tagFilter: r.tag_filter,
    scheduleMinutes: r.schedule_minutes,
    lastScheduledAt: r.last_scheduled_at,
    createdAt: r.created_at,
  };
}
type JobRow = { [K in keyof Database['jobs']]: K extends 'id' ? number : Database['jobs'][K] };
function jobOut(r: JobRow) {
  return {
    id: r.id,
    type: r.type,
    payload: JSON.parse(r.payload) as Record<string, unknown>,
    status: r.status as 'queued',
    attempts: r.attempts,
    maxAttempts: r.max_attempts,
    runAfter: r.run_after,
    progress: r.progress,
    message: r.message,
    runner: r.locked_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
  };
}

export function registryRoutes(s: ServerContext, jobs: JobRunner): void {
  const { router, db } = s;
  const get = async (id: number) => {
    const r = await db.selectFrom('registries').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new HttpError(404, 'NOT_FOUND', msg('registry.notFound', { id }));
    return r;
  };

  router.add({
    method: 'GET',
    url: '/api/registries',
    tag: 'registries',
    access: 'viewer',
    summary: 'Registries (passwords are never returned)',
    response: z.object({ items: z.array(RegistryOut) }),
    async handler() {
      return { items: (await db.selectFrom('registries').selectAll().orderBy('id').execute()).map(regOut) };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/registries/:id',
    tag: 'registries',
    access: 'viewer',
    summary: 'One registry',
    params: IdParams,
    response: RegistryOut,
    async handler({ params }) {
      return regOut(await get(params.id));
    },
  });

  router.add({
    method: 'POST',
    url: '/api/registries',
    tag: 'registries',
    access: 'admin',
    status: 201,
    summary: 'Add a registry to scan',
    body: RegistryIn,
    response: RegistryOut,
    async handler({ body, principal }) {
      if (await db.selectFrom('registries').select('id').where('name', '=', body.name).executeTakeFirst())
        throw new HttpError(409, 'CONFLICT', msg('registry.exists', { name: body.name }));
      const { id } = await db
        .insertInto('registries')
        .values({
          name: body.name,
          url: body.url.replace(/\/+$/, ''),
          username: body.username,
          secret: s.box.seal(body.password),
          ca_cert: body.caCert,
          insecure: body.insecure ? 1 : 0,
          repositories: JSON.stringify(body.repositories),
          tag_filter: body.tagFilter,
          schedule_minutes: body.scheduleMinutes,
          last_scheduled_at: null,
          created_at: new Date().toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(db, actorName(principal), 'registry.create', `registry:${body.name}`, {
        url: body.url,
        username: body.username,
        repositories: body.repositories,
        tagFilter: body.tagFilter,
        scheduleMinutes: body.scheduleMinutes,
      });
      return regOut(await get(id));
    },
  });

  router.add({
    method: 'PATCH',
    url: '/api/registries/:id',
    tag: 'registries',
    access: 'admin',
    summary: 'Change a registry (omit password to keep it)',
    params: IdParams,
    body: RegistryIn.partial().extend({ password: z.string().max(10_000).optional() }),
    response: RegistryOut,
    async handler({ params, body, principal }) {
      const r = await get(params.id);
      const set: Updateable<Database['registries']> = {};
      if (body.name !== undefined) set.name = body.name;
      if (body.url !== undefined) set.url = body.url.replace(/\/+$/, '');
      if (body.username !== undefined) set.username = body.username;
      if (body.password !== undefined) set.secret = s.box.seal(body.password);
      if (body.caCert !== undefined) set.ca_cert = body.caCert;
      if (body.insecure !== undefined) set.insecure = body.insecure ? 1 : 0;
      if (body.repositories !== undefined) set.repositories = JSON.stringify(body.repositories);
      if (body.tagFilter !== undefined) set.tag_filter = body.tagFilter;
      if (body.scheduleMinutes !== undefined) set.schedule_minutes = body.scheduleMinutes;
      if (Object.keys(set).length)
        await db.updateTable('registries').set(set).where('id', '=', r.id).execute();
      const { password: _pw, ...shown } = body;
      await audit(db, actorName(principal), 'registry.update', `registry:${r.name}`, {
        ...shown,
        passwordChanged: body.password !== undefined,
      });
      return regOut(await get(r.id));
    },
  });

  router.add({
    method: 'DELETE',
    url: '/api/registries/:id',
    tag: 'registries',
    access: 'admin',
    summary: 'Remove a registry (its images and scans stay)',
    params: IdParams,
    async handler({ params, principal }) {
      const r = await get(params.id);
      await db.deleteFrom('registries').where('id', '=', r.id).execute();
      await audit(db, actorName(principal), 'registry.delete', `registry:${r.name}`);
    },
  });

  router.add({
    method: 'POST',
    url: '/api/registries/:id/scan',
    tag: 'registries',
    access: 'operator',
    status: 202,
    summary: 'Scan the registry now (queues a registry-sync job)',
    params: IdParams,
    response: z.object({ jobId: z.number().int() }),
    async handler({ params, principal }) {
      const r = await get(params.id);
      const jobId = await enqueue(
        db,
        'registry-sync',
        { registryId: r.id, reason: format('job.reasonRequested', { user: principal.username }) },
        jobs.maxAttempts,
      );
      await audit(db, actorName(principal), 'registry.scan', `registry:${r.name}`, { jobId });
      return { jobId };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/jobs',
    tag: 'jobs',
    access: 'viewer',
    summary: 'Jobs, newest first',
    query: pagingQuery(['id'], 'id').extend({
      status: z.enum(['queued', 'running', 'succeeded', 'failed']).optional(),
      type: z.enum(['registry-sync', 'image-scan']).optional(),
    }),
    response: page(JobOut),
    async handler({ query }) {
      let b = db.selectFrom('jobs');
      if (query.status) b = b.where('status', '=', query.status);
      if (query.type) b = b.where('type', '=', query.type);
      const total = await countRows(b);
      const rows = await b
        .selectAll()
        .orderBy('id', query.order)
        .$call((q) => pageOf(q, query))
        .execute();
      return { items: rows.map(jobOut), total, page: query.page, pageSize: query.pageSize };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/jobs/:id',
    tag: 'jobs',
    access: 'viewer',
    summary: 'Status and progress of one job',
    params: IdParams,
    response: JobOut,
    async handler({ params }) {
      const r = await db.selectFrom('jobs').selectAll().where('id', '=', params.id).executeTakeFirst();
      if (!r) throw new HttpError(404, 'NOT_FOUND', msg('job.notFound', { id: params.id }));
      return jobOut(r);
    },
  });
}
