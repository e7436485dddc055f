/** Notification destinations, rules, the outbox and its dead-letter list. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SEVERITIES } from '../../core/types.js';
import { actorName, audit } from '../auth.js';
import type { ServerContext } from '../context.js';
import { msg } from '../messages.js';
import { HttpError, IdParams, page, pagingQuery, countRows, pageOf } from '../http.js';
import { EVENT_TYPES, type Notifier } from '../notify/index.js';
import { redactUrl } from '../notify/transport.js';

const SyslogCfg = z.object({
  host: z.string().min(1).max(255),
  port: z.number().int().min(1).max(65535),
  transport: z.enum(['udp', 'tcp', 'tls']).default('udp'),
  format: z.enum(['rfc5424', 'cef']).default('rfc5424'),
  facility: z.number().int().min(0).max(23).default(10),
  caCert: z.string().max(100_000).default(''),
  insecure: z.boolean().default(false),
});
const HttpCfg = z.object({
  url: z.url({ protocol: /^https?$/ }).max(2000),
  secret: z
    .string()
    .max(1000)
    .default('')
    .meta({ description: 'webhook HMAC key; stored encrypted, never returned' }),
  caCert: z.string().max(100_000).default(''),
});
const DestinationIn = z.discriminatedUnion('type', [
  z.object({ name: z.string().min(1).max(100), type: z.literal('syslog'), config: SyslogCfg }),
  z.object({ name: z.string().min(1).max(100), type: z.literal('webhook'), config: HttpCfg }),
  z.object({
    name: z.string().min(1).max(100),
    type: z.literal('slack'),
    config: HttpCfg.pick({ url: true, caCert: true }),
  }),
]);
const DestinationOut = z
  .object({
    id: z.number().int(),
    name: z.string(),
    type: z.enum(['syslog', 'webhook', 'slack']),
    config: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  })
  .meta({ id: 'Destination' });
const RuleIn = z.object({
  name: z.string().min(1).max(100),
  event: z.enum(EVENT_TYPES),
  minSeverity: z
    .enum(SEVERITIES)
    .default('UNKNOWN')
    .meta({ description: 'new-finding: only findings at or above; other events: the event severity' }),
  registryFilter: z
    .string()
    .max(500)
    .default('')
    .meta({ description: 'registry name or image-name prefix (namespace); empty: all' }),
  destinationId: z.number().int(),
  enabled: z.boolean().default(true),
});
const RuleOut = RuleIn.extend({ id: z.number().int(), createdAt: z.string() }).meta({
  id: 'NotificationRule',
});
const Delivery = z
  .object({
    id: z.number().int(),
    destinationId: z.number().int(),
    status: z.enum(['pending', 'sending', 'delivered', 'dead']),
    attempts: z.number().int(),
    nextAttemptAt: z.string(),
    lastError: z.string(),
    createdAt: z.string(),
    deliveredAt: z.string().nullable(),
    event: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Delivery' });

export function notifyRoutes(s: ServerContext, notifier: Notifier): void {
  const { router, db, box } = s;

  const shown = (type: string, config: Record<string, unknown>) => {
    const c = { ...config };
    if ('secret' in c) c.secret = c.secret ? '(set)' : '';
    if (type === 'slack' && typeof c.url === 'string') c.url = redactUrl(box.open(c.url));
    return c;
  };
  const destOut = (r: { id: number; name: string; type: string; config: string; created_at: string }) => ({
    id: r.id,
    name: r.name,
    type: r.type as 'syslog',
    config: shown(r.type, JSON.parse(r.config) as Record<string, unknown>),
    createdAt: r.created_at,
  });

  router.add({
    method: 'GET',
    url: '/api/notifications/destinations',
    tag: 'notifications',
    access: 'viewer',
    summary: 'Notification destinations (secrets hidden)',
    response: z.object({ items: z.array(DestinationOut) }),
    async handler() {
      return {
        items: (await db.selectFrom('notify_destinations').selectAll().orderBy('id').execute()).map(destOut),
      };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/notifications/destinations',
    tag: 'notifications',
    access: 'admin',
    status: 201,
    summary:
      'Add a destination: syslog (UDP/TCP/TLS, RFC 5424 or CEF), signed webhook, or Slack-compatible webhook',
    body: DestinationIn,
    response: DestinationOut,
    async handler({ body, principal }) {
      const config: Record<string, unknown> = { ...body.config };
      if (body.type === 'webhook') config.secret = box.seal(body.config.secret);
      if (body.type === 'slack') config.url = box.seal(body.config.url);
      const { id } = await db
        .insertInto('notify_destinations')
        .values({
          name: body.name,
          type: body.type,
          config: JSON.stringify(config),
          created_at: new Date().toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(db, actorName(principal), 'destination.create', `destination:${body.name}`, {
        type: body.type,
        config: shown(body.type, config),
      });
      return destOut(
        await db.selectFrom('notify_destinations').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
      );
    },
  });

  router.add({
    method: 'DELETE',
    url: '/api/notifications/destinations/:id',
    tag: 'notifications',
    access: 'admin',
    summary: 'Remove a destination and its rules',
    params: IdParams,
    async handler({ params, principal }) {
      const d = await db
        .selectFrom('notify_destinations')
        .select(['id', 'name'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!d) throw new HttpError(404, 'NOT_FOUND', msg('destination.notFound', { id: params.id }));
      await db.deleteFrom('notify_rules').where('destination_id', '=', d.id).execute();
      await db.deleteFrom('notify_destinations').where('id', '=', d.id).execute();
      await audit(db, actorName(principal), 'destination.delete', `destination:${d.name}`);
    },
  });

  router.add({
    method: 'POST',
    url: '/api/notifications/destinations/:id/test',
    tag: 'notifications',
    access: 'admin',
    status: 202,
    summary: 'Queue a test event to a destination',
    params: IdParams,
    async handler({ params, principal }) {
      const d = await db
        .selectFrom('notify_destinations')
        .select(['id', 'name'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!d) throw new HttpError(404, 'NOT_FOUND', msg('destination.notFound', { id: params.id }));
      await notifier.queue(db, d.id, {
        id: randomUUID(),
        type: 'test',
        time: new Date().toISOString(),
        severity: 'LOW',
        summary: `test notification from Bulwark (requested by ${principal.username})`,
      });
      await audit(db, actorName(principal), 'destination.test', `destination:${d.name}`);
      return '';
    },
  });

  const ruleOut = (r: {
    id: number;
    name: string;
    event: string;
    min_severity: string;
    registry_filter: string;
    destination_id: number;
    enabled: number;
    created_at: string;
  }) => ({
    id: r.id,
    name: r.name,
    event: r.event as 'test',
    minSeverity: r.min_severity as 'LOW',
    registryFilter: r.registry_filter,
    destinationId: r.destination_id,
    enabled: !!r.enabled,
    createdAt: r.created_at,
  });

  router.add({
    method: 'GET',
    url: '/api/notifications/rules',
    tag: 'notifications',
    access: 'viewer',
    summary: 'Notification rules',
    response: z.object({ items: z.array(RuleOut) }),
    async handler() {
      return {
        items: (await db.selectFrom('notify_rules').selectAll().orderBy('id').execute()).map(ruleOut),
      };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/notifications/rules',
    tag: 'notifications',
    access: 'admin',
    status: 201,
    summary: 'Add a rule: event type, minimum severity and registry/namespace filter → destination',
    body: RuleIn,
    response: RuleOut,
    async handler({ body, principal }) {
      if (
        !(await db
          .selectFrom('notify_destinations')
          .select('id')
          .where('id', '=', body.destinationId)
          .executeTakeFirst())
      )
        throw new HttpError(400, 'BAD_REQUEST', msg('destination.missing', { id: body.destinationId }));
      const { id } = await db
        .insertInto('notify_rules')
        .values({
          name: body.name,
          event: body.event,
          min_severity: body.minSeverity,
          registry_filter: body.registryFilter,
          destination_id: body.destinationId,
          enabled: body.enabled ? 1 : 0,
          created_at: new Date().toISOString(),
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      await audit(db, actorName(principal), 'rule.create', `rule:${body.name}`, body);
      return ruleOut(
        await db.selectFrom('notify_rules').selectAll().where('id', '=', id).executeTakeFirstOrThrow(),
      );
    },
  });

  router.add({
    method: 'DELETE',
    url: '/api/notifications/rules/:id',
    tag: 'notifications',
    access: 'admin',
    summary: 'Remove a rule',
    params: IdParams,
    async handler({ params, principal }) {
      const r = await db
        .selectFrom('notify_rules')
        .select(['id', 'name'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!r) throw new HttpError(404, 'NOT_FOUND', msg('rule.notFound', { id: params.id }));
      await db.deleteFrom('notify_rules').where('id', '=', r.id).execute();
      await audit(db, actorName(principal), 'rule.delete', `rule:${r.name}`);
    },
  });

  router.add({
    method: 'GET',
    url: '/api/notifications/deliveries',
    tag: 'notifications',
    access: 'viewer',
    summary: 'The outbox: deliveries by status (status=dead is the dead-letter list)',
    query: pagingQuery(['id'], 'id').extend({
      status: z.enum(['pending', 'sending', 'delivered', 'dead']).optional(),
    }),
    response: page(Delivery),
    async handler({ query }) {
      let b = db.selectFrom('outbox');
      if (query.status) b = b.where('status', '=', query.status);
      const total = await countRows(b);
      const rows = await b
        .selectAll()
        .orderBy('id', query.order)
        .$call((q) => pageOf(q, query))
        .execute();
      return {
        items: rows.map((r) => ({
          id: r.id,
          destinationId: r.destination_id,
          status: r.status as 'dead',
          attempts: r.attempts,
          nextAttemptAt: r.next_attempt_at,
          lastError: r.last_error,
          createdAt: r.created_at,
          deliveredAt: r.delivered_at,
          event: JSON.parse(r.event) as Record<string, unknown>,
        })),
        total,
        page: query.page,
        pageSize: query.pageSize,
      };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/notifications/deliveries/:id/retry',
    tag: 'notifications',
    access: 'operator',
    summary: 'Requeue a dead-lettered delivery',
    params: IdParams,
    async handler({ params, principal }) {
      const r = await db
        .selectFrom('outbox')
        .select(['id', 'status'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!r) throw new HttpError(404, 'NOT_FOUND', msg('delivery.notFound', { id: params.id }));
      if (r.status !== 'dead')
        throw new HttpError(409, 'CONFLICT', msg('delivery.notDead', { id: params.id, status: r.status }));
      await db
        .updateTable('outbox')
        .set({ status: 'pending', attempts: 0, next_attempt_at: new Date().toISOString() })
        .where('id', '=', r.id)
        .execute();
      await audit(db, actorName(principal), 'delivery.retry', `delivery:${r.id}`);
    },
  });
}
