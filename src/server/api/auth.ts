/** Login, bootstrap, users, API tokens and the audit log. */
import { sql } from 'kysely';
import { z } from 'zod';
import { actorName, audit, type Role } from '../auth.js';
import { format, msg } from '../messages.js';
import {
  HttpError,
  IdParams,
  page,
  pagingQuery,
  ROLES,
  countRows,
  pageOf,
  likeEscape,
  likeSql,
} from '../http.js';
import type { ServerContext } from '../context.js';
import { throttleSource, type ThrottleVerdict } from '../throttle.js';
import type { FastifyReply } from 'fastify';

/** Throttle key of bootstrap attempts (not a valid user name). */
const BOOTSTRAP_ACCOUNT = '#bootstrap';

const RoleSchema = z.enum(ROLES);
const Password = z.string().min(12, 'at least 12 characters').max(1024);
const Username = z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits and _ . @ - (1-64 characters)');
export const User = z
  .object({
    id: z.number().int(),
    username: z.string(),
    role: RoleSchema,
    disabled: z.boolean(),
    createdAt: z.string(),
  })
  .meta({ id: 'User' });
const Me = z.object({
  user: User.omit({ disabled: true, createdAt: true }).extend({ via: z.enum(['session', 'token']) }),
  csrfToken: z.string().optional(),
});
const Token = z
  .object({
    id: z.number().int(),
    name: z.string(),
    prefix: z.string(),
    role: RoleSchema,
    userId: z.number().int(),
    username: z.string(),
    createdAt: z.string(),
    lastUsedAt: z.string().nullable(),
    cluster: z.string().meta({ description: "'' = not bound to a cluster" }),
  })
  .meta({ id: 'ApiToken' });
const AuditEntry = z
  .object({
    id: z.number().int(),
    at: z.string(),
    actor: z.string(),
    action: z.string(),
    target: z.string(),
    detail: z.record(z.string(), z.unknown()).nullable(),
  })
  .meta({ id: 'AuditEntry' });

function userOut(r: { id: number; username: string; role: string; disabled: number; created_at: string }) {
  return {
    id: r.id,
    username: r.username,
    role: r.role as Role,
    disabled: !!r.disabled,
    createdAt: r.created_at,
  };
}

/** 429 for a throttled (source, account), with Retry-After. */
function throttled(v: ThrottleVerdict & { ok: false }, reply: FastifyReply): never {
  const seconds = Math.max(1, Math.ceil(v.retryAfterMs / 1000));
  reply.header('retry-after', String(seconds));
  const key =
    v.reason === 'source'
      ? 'auth.throttledSource'
      : v.reason === 'account'
        ? 'auth.throttledAccount'
        : 'auth.throttledPair';
  throw new HttpError(429, 'RATE_LIMIT', msg(key, { seconds }));
}

export function authRoutes(s: ServerContext): void {
  const { router, auth, db, throttle } = s;

  router.add({
    method: 'GET',
    url: '/api/auth/status',
    tag: 'auth',
    access: 'public',
    summary: 'Whether the first admin still has to be created (bootstrap)',
    response: z.object({ needsBootstrap: z.boolean() }),
    async handler() {
      return { needsBootstrap: (await auth.userCount()) === 0 };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/auth/bootstrap',
    tag: 'auth',
    access: 'public',
    summary: 'Create the first admin with the one-time token printed at first start; logs in',
    body: z.object({ token: z.string().min(1), username: Username, password: Password }),
    response: Me,
    async handler({ body, req, reply }) {
      const v = throttle.check(throttleSource(req.ip), BOOTSTRAP_ACCOUNT);
      if (!v.ok) throttled(v, reply);
      const id = await auth.completeBootstrap(body.token, body.username, body.password);
      if (id === undefined) {
        throttle.fail(throttleSource(req.ip), BOOTSTRAP_ACCOUNT);
        await audit(db, 'anonymous', 'auth.bootstrap_failed', `user:${body.username}`, {
          ip: req.ip,
          reason: format((await auth.userCount()) > 0 ? 'audit.alreadyBootstrapped' : 'audit.wrongToken'),
        });
        throw new HttpError(403, 'BOOTSTRAP', msg('auth.bootstrap'));
      }
      throttle.succeed(throttleSource(req.ip), BOOTSTRAP_ACCOUNT);
      const csrfToken = await auth.startSession(id, req, reply);
      return {
        user: { id, username: body.username, role: 'admin' as const, via: 'session' as const },
        csrfToken,
      };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/auth/login',
    tag: 'auth',
    access: 'public',
    summary: 'Log in with username and password; sets the session and CSRF cookies',
    body: z.object({ username: z.string().max(64), password: z.string().max(1024) }),
    response: Me,
    async handler({ body, req, reply }) {
      const v = throttle.check(throttleSource(req.ip), body.username);
      // Refused before the password is checked; not audited one by one (a flood would fill the log).
      if (!v.ok) throttled(v, reply);
      const u = await auth.checkPassword(body.username, body.password);
      if (!u) {
        throttle.fail(throttleSource(req.ip), body.username);
        await audit(
          db,
          body.username.slice(0, 64),
          'auth.login_failed',
          `user:${body.username.slice(0, 64)}`,
          { ip: req.ip },
        );
        throw new HttpError(401, 'LOGIN', msg('auth.login'));
      }
      throttle.succeed(throttleSource(req.ip), body.username);
      const csrfToken = await auth.startSession(u.id, req, reply);
      await audit(db, u.username, 'auth.login', `user:${u.username}`, { ip: req.ip });
      return { user: { ...u, via: 'session' as const }, csrfToken };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/auth/logout',
    tag: 'auth',
    access: 'viewer',
    summary: 'End the current session',
    async handler({ principal, reply }) {
      await s.auth.endSession(principal, reply);
      await audit(db, actorName(principal), 'auth.logout', `user:${principal.username}`);
    },
  });

  router.add({
    method: 'GET',
    url: '/api/auth/me',
    tag: 'auth',
    access: 'viewer',
    summary: 'The logged-in user (and the CSRF token of the session)',
    response: Me,
    async handler({ principal, req }) {
      const csrfToken = (req as { sessionCsrf?: string }).sessionCsrf;
      return {
        user: {
          id: principal.userId,
          username: principal.username,
          role: principal.role,
          via: principal.via,
        },
        ...(csrfToken ? { csrfToken } : {}),
      };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/users',
    tag: 'users',
    access: 'admin',
    summary: 'List users',
    response: z.object({ items: z.array(User) }),
    async handler() {
      const rows = await db
        .selectFrom('users')
        .select(['id', 'username', 'role', 'disabled', 'created_at'])
        .orderBy('id')
        .execute();
      return { items: rows.map(userOut) };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/users',
    tag: 'users',
    access: 'admin',
    status: 201,
    summary: 'Create a user',
    body: z.object({ username: Username, password: Password, role: RoleSchema }),
    response: User,
    async handler({ body, principal }) {
      const exists = await db
        .selectFrom('users')
        .select('id')
        .where('username', '=', body.username)
        .executeTakeFirst();
      if (exists) throw new HttpError(409, 'CONFLICT', msg('user.exists', { name: body.username }));
      const id = await auth.createUser(body.username, body.password, body.role);
      await audit(db, actorName(principal), 'user.create', `user:${body.username}`, { role: body.role });
      const r = await db
        .selectFrom('users')
        .select(['id', 'username', 'role', 'disabled', 'created_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      return userOut(r);
    },
  });

  router.add({
    method: 'PATCH',
    url: '/api/users/:id',
    tag: 'users',
    access: 'admin',
    summary: "Change a user's role, password or disabled flag",
    params: IdParams,
    body: z.object({
      role: RoleSchema.optional(),
      password: Password.optional(),
      disabled: z.boolean().optional(),
    }),
    response: User,
    async handler({ params, body, principal }) {
      const u = await db.selectFrom('users').selectAll().where('id', '=', params.id).executeTakeFirst();
      if (!u) throw new HttpError(404, 'NOT_FOUND', msg('user.notFound', { id: params.id }));
      if (u.id === principal.userId && ((body.role && body.role !== 'admin') || body.disabled)) {
        throw new HttpError(409, 'CONFLICT', msg('user.selfDemote'));
      }
      const set: Record<string, unknown> = {};
      if (body.role) set.role = body.role;
      if (body.disabled !== undefined) set.disabled = body.disabled ? 1 : 0;
      if (body.password) set.password_hash = await (await import('../crypto.js')).hashPassword(body.password);
      if (Object.keys(set).length) await db.updateTable('users').set(set).where('id', '=', u.id).execute();
      if (body.disabled || body.password)
        await db.deleteFrom('sessions').where('user_id', '=', u.id).execute();
      await audit(db, actorName(principal), 'user.update', `user:${u.username}`, {
        role: body.role,
        disabled: body.disabled,
        passwordChanged: !!body.password,
      });
      return userOut(
        await db
          .selectFrom('users')
          .select(['id', 'username', 'role', 'disabled', 'created_at'])
          .where('id', '=', u.id)
          .executeTakeFirstOrThrow(),
      );
    },
  });

  router.add({
    method: 'DELETE',
    url: '/api/users/:id',
    tag: 'users',
    access: 'admin',
    summary: 'Delete a user (and their sessions and tokens)',
    params: IdParams,
    async handler({ params, principal }) {
      const u = await db
        .selectFrom('users')
        .select(['id', 'username'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!u) throw new HttpError(404, 'NOT_FOUND', msg('user.notFound', { id: params.id }));
      if (u.id === principal.userId) throw new HttpError(409, 'CONFLICT', msg('user.selfDelete'));
      await db.deleteFrom('sessions').where('user_id', '=', u.id).execute();
      await db.deleteFrom('api_tokens').where('user_id', '=', u.id).execute();
      await db.deleteFrom('users').where('id', '=', u.id).execute();
      await audit(db, actorName(principal), 'user.delete', `user:${u.username}`);
    },
  });

  router.add({
    method: 'GET',
    url: '/api/tokens',
    tag: 'tokens',
    access: 'viewer',
    summary: "API tokens: your own, or everyone's for admins",
    response: z.object({ items: z.array(Token) }),
    async handler({ principal }) {
      let q = db
        .selectFrom('api_tokens')
        .innerJoin('users', 'users.id', 'api_tokens.user_id')
        .select([
          'api_tokens.id',
          'api_tokens.name',
          'api_tokens.prefix',
          'api_tokens.role',
          'api_tokens.user_id',
          'users.username',
          'api_tokens.created_at',
          'api_tokens.last_used_at',
          'api_tokens.cluster',
        ])
        .orderBy('api_tokens.id');
      if (principal.role !== 'admin') q = q.where('api_tokens.user_id', '=', principal.userId);
      const rows = await q.execute();
      return {
        items: rows.map((r) => ({
          id: r.id,
          name: r.name,
          prefix: r.prefix,
          role: r.role as Role,
          userId: r.user_id,
          username: r.username,
          createdAt: r.created_at,
          lastUsedAt: r.last_used_at,
          cluster: r.cluster,
        })),
      };
    },
  });

  router.add({
    method: 'POST',
    url: '/api/tokens',
    tag: 'tokens',
    access: 'viewer',
    status: 201,
    summary: 'Create an API token for CI (the secret is in this response only)',
    body: z.object({
      name: z.string().min(1).max(100),
      role: RoleSchema.optional(),
      cluster: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'a cluster name: letters, digits, . _ - (1-63)')
        .optional()
        .meta({
          description:
            "a cluster token: the agents' events and the uploads made with it belong to this cluster (and no other)",
        }),
    }),
    response: z.object({
      id: z.number().int(),
      token: z.string(),
      prefix: z.string(),
      role: RoleSchema,
      cluster: z.string().optional(),
    }),
    async handler({ body, principal }) {
      if (principal.via === 'token') throw new HttpError(403, 'FORBIDDEN', msg('token.byToken'));
      const role = body.role ?? principal.role;
      if (ROLES.indexOf(role) > ROLES.indexOf(principal.role))
        throw new HttpError(403, 'FORBIDDEN', msg('token.tooStrong', { role, owner: principal.role }));
      const t = await auth.createToken(principal.userId, body.name, role, body.cluster ?? '');
      await audit(db, actorName(principal), 'token.create', `token:${t.id}`, {
        name: body.name,
        role,
        ...(body.cluster ? { cluster: body.cluster } : {}),
      });
      return {
        id: t.id,
        token: t.token,
        prefix: t.prefix,
        role,
        ...(body.cluster ? { cluster: body.cluster } : {}),
      };
    },
  });

  router.add({
    method: 'DELETE',
    url: '/api/tokens/:id',
    tag: 'tokens',
    access: 'viewer',
    summary: 'Revoke an API token (own tokens; admins any)',
    params: IdParams,
    async handler({ params, principal }) {
      const t = await db
        .selectFrom('api_tokens')
        .select(['id', 'user_id', 'name'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!t || (t.user_id !== principal.userId && principal.role !== 'admin'))
        throw new HttpError(404, 'NOT_FOUND', msg('token.notFound', { id: params.id }));
      await db.deleteFrom('api_tokens').where('id', '=', t.id).execute();
      await audit(db, actorName(principal), 'token.revoke', `token:${t.id}`, { name: t.name });
    },
  });

  router.add({
    method: 'GET',
    url: '/api/audit',
    tag: 'audit',
    access: 'admin',
    summary: 'Audit log of every state change, newest first',
    query: pagingQuery(['at'], 'at').extend({ actor: z.string().optional(), action: z.string().optional() }),
    response: page(AuditEntry),
    async handler({ query }) {
      let q = db.selectFrom('audit_log');
      if (query.actor) q = q.where('actor', '=', query.actor);
      if (query.action) q = q.where(likeSql(sql.ref('action'), `${likeEscape(query.action)}%`));
      const total = await countRows(q);
      const rows = await q
        .selectAll()
        .orderBy('id', query.order)
        .$call((q) => pageOf(q, query))
        .execute();
      return {
        items: rows.map((r) => ({
          id: r.id,
          at: r.at,
          actor: r.actor,
          action: r.action,
          target: r.target,
          detail: r.detail ? (JSON.parse(r.detail) as Record<string, unknown>) : null,
        })),
        total,
        page: query.page,
        pageSize: query.pageSize,
      };
    },
  });
}
