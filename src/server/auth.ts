/**
 * Users, sessions, API tokens, first-run bootstrap and the audit log.
 *
 * - Passwords: scrypt with a per-user salt (crypto.ts), constant-time compare.
 * - Sessions: random 32-byte cookie `bulwark_session` (HttpOnly, SameSite=Strict, Secure on https),
 *   stored as its sha256; each session has a CSRF token, also sent as the readable cookie
 *   `bulwark_csrf`. State-changing requests with a session must echo it in `X-CSRF-Token`
 *   (double submit: header == cookie == session's token).
 * - API tokens: `bwk_<prefix>_<secret>`, stored as sha256, shown once; `Authorization: Bearer`.
 *   A token's role is at most its owner's role. Token requests need no CSRF header.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Database } from './db/index.js';
import { dummyPasswordHash, hashPassword, randomToken, safeEqual, sha256, verifyPassword } from './crypto.js';
import type { Authenticator } from './http.js';

export type Role = 'viewer' | 'operator' | 'admin';

export interface Principal {
  userId: number;
  username: string;
  role: Role;
  via: 'session' | 'token';
  tokenId?: number;
  /** A cluster token: the cluster its agents' events and uploads belong to. */
  cluster?: string;
  /** sha256 of the session cookie (session logins). */
  sessionHash?: string;
}

export const SESSION_COOKIE = 'bulwark_session';
export const CSRF_COOKIE = 'bulwark_csrf';
export const CSRF_HEADER = 'x-csrf-token';
const SESSION_HOURS = 12;
const ROLE_RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function minRole(a: Role, b: Role): Role {
  return ROLE_RANK[a] <= ROLE_RANK[b] ? a : b;
}

const now = () => new Date().toISOString();

export class Auth implements Authenticator {
  constructor(private readonly db: Kysely<Database>) {}

  async authenticate(req: FastifyRequest): Promise<Principal | undefined> {
    const authz = req.headers.authorization;
    if (authz) {
      const m = /^Bearer\s+(\S+)$/i.exec(authz);
      return m ? this.checkToken(m[1]!) : undefined;
    }
    const cookie = req.cookies?.[SESSION_COOKIE];
    if (!cookie) return undefined;
    const idHash = sha256(cookie);
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('users', 'users.id', 'sessions.user_id')
      .select([
        'users.id',
        'users.username',
        'users.role',
        'users.disabled',
        'sessions.expires_at',
        'sessions.csrf',
      ])
      .where('sessions.id_hash', '=', idHash)
      .executeTakeFirst();
    if (!row || row.disabled || row.expires_at < now()) return undefined;
    (req as FastifyRequest & { sessionCsrf?: string }).sessionCsrf = row.csrf;
    return {
      userId: row.id,
      username: row.username,
      role: row.role as Role,
      via: 'session',
      sessionHash: idHash,
    };
  }

  csrfOk(req: FastifyRequest, p: Principal): boolean {
    if (p.via === 'token') return true;
    const expected = (req as FastifyRequest & { sessionCsrf?: string }).sessionCsrf;
    const header = req.headers[CSRF_HEADER];
    const cookie = req.cookies?.[CSRF_COOKIE];
    return (
      typeof header === 'string' &&
      !!expected &&
      !!cookie &&
      safeEqual(header, expected) &&
      safeEqual(cookie, expected)
    );
  }

  private async checkToken(token: string): Promise<Principal | undefined> {
    const m = /^bwk_([A-Za-z0-9]{8})_[A-Za-z0-9_-]{20,}$/.exec(token);
    if (!m) return undefined;
    const row = await this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .select([
        'api_tokens.id as tokenId',
        'api_tokens.token_hash',
        'api_tokens.role as tokenRole',
        'api_tokens.last_used_at',
        'api_tokens.cluster',
        'users.id',
        'users.username',
        'users.role',
        'users.disabled',
      ])
      .where('api_tokens.prefix', '=', m[1]!)
      .executeTakeFirst();
    if (!row || row.disabled || !safeEqual(sha256(token), row.token_hash)) return undefined;
    // last_used_at to the minute: no database write on every CI request.
    if (!row.last_used_at || Date.parse(row.last_used_at) < Date.now() - 60_000) {
      await this.db
        .updateTable('api_tokens')
        .set({ last_used_at: now() })
        .where('id', '=', row.tokenId)
        .execute();
    }
    return {
      userId: row.id,
      username: row.username,
      role: minRole(row.tokenRole as Role, row.role as Role),
      via: 'token',
      tokenId: row.tokenId,
      ...(row.cluster ? { cluster: row.cluster } : {}),
    };
  }

  /** Checks a username/password; undefined when wrong (same time whether or not the user exists). */
  async checkPassword(
    username: string,
    password: string,
  ): Promise<{ id: number; username: string; role: Role } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('username', '=', username)
      .executeTakeFirst();
    const ok = await verifyPassword(password, row?.password_hash ?? (await dummyPasswordHash()));
    if (!row || !ok || row.disabled) return undefined;
    return { id: row.id, username: row.username, role: row.role as Role };
  }

  /** Creates a session, sets both cookies; returns the CSRF token for the client. */
  async startSession(userId: number, req: FastifyRequest, reply: FastifyReply): Promise<string> {
    const id = randomToken();
    const csrf = randomToken(24);
    const expires = new Date(Date.now() + SESSION_HOURS * 3600_000);
    await this.db.deleteFrom('sessions').where('expires_at', '<', now()).execute();
    await this.db
      .insertInto('sessions')
      .values({
        id_hash: sha256(id),
        user_id: userId,
        csrf,
        created_at: now(),
        expires_at: expires.toISOString(),
      })
      .execute();
    const secure = req.protocol === 'https';
    reply.setCookie(SESSION_COOKIE, id, { httpOnly: true, sameSite: 'strict', secure, path: '/', expires });
    reply.setCookie(CSRF_COOKIE, csrf, { httpOnly: false, sameSite: 'strict', secure, path: '/', expires });
    return csrf;
  }

  async endSession(p: Principal, reply: FastifyReply): Promise<void> {
    if (p.sessionHash) await this.db.deleteFrom('sessions').where('id_hash', '=', p.sessionHash).execute();
    reply.clearCookie(SESSION_COOKIE, { path: '/' });
    reply.clearCookie(CSRF_COOKIE, { path: '/' });
  }

  async createUser(username: string, password: string, role: Role): Promise<number> {
    const r = await this.db
      .insertInto('users')
      .values({ username, password_hash: await hashPassword(password), role, disabled: 0, created_at: now() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return r.id;
  }

  /** Creates an API token; the returned secret is shown once and never stored. */
  async createToken(
    userId: number,
    name: string,
    role: Role,
    cluster = '',
  ): Promise<{ id: number; token: string; prefix: string }> {
    const prefix = randomToken(12)
      .replace(/[^A-Za-z0-9]/g, '')
      .slice(0, 8)
      .padEnd(8, 'x');
    const token = `bwk_${prefix}_${randomToken(32)}`;
    const r = await this.db
      .insertInto('api_tokens')
      .values({
        user_id: userId,
        name,
        prefix,
        token_hash: sha256(token),
        role,
        created_at: now(),
        last_used_at: null,
        cluster,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return { id: r.id, token, prefix };
  }

  async userCount(): Promise<number> {
    const r = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  }

  /**
   * First start: with BULWARK_ADMIN_PASSWORD, creates user "admin" (or BULWARK_ADMIN_USER) directly;
   * otherwise makes a one-time bootstrap token (its hash kept in settings) for POST /api/auth/bootstrap.
   * Returns what to tell the operator, or undefined when users exist already.
   */
  async bootstrap(
    env: NodeJS.ProcessEnv,
  ): Promise<{ kind: 'password'; username: string } | { kind: 'token'; token: string } | undefined> {
    if ((await this.userCount()) > 0) return undefined;
    if (env.BULWARK_ADMIN_PASSWORD) {
      const username = env.BULWARK_ADMIN_USER || 'admin';
      await this.createUser(username, env.BULWARK_ADMIN_PASSWORD, 'admin');
      await audit(this.db, 'system', 'user.bootstrap', `user:${username}`, { via: 'env' });
      return { kind: 'password', username };
    }
    const token = randomToken(18);
    await setSetting(this.db, 'bootstrap_token_hash', sha256(token));
    return { kind: 'token', token };
  }

  /** Consumes the bootstrap token and creates the first admin; false when the token is wrong or used. */
  async completeBootstrap(token: string, username: string, password: string): Promise<number | undefined> {
    const stored = await getSetting(this.db, 'bootstrap_token_hash');
    if (!stored || !safeEqual(sha256(token), stored) || (await this.userCount()) > 0) return undefined;
    await this.db.deleteFrom('settings').where('key', '=', 'bootstrap_token_hash').execute();
    const id = await this.createUser(username, password, 'admin');
    await audit(this.db, username, 'user.bootstrap', `user:${username}`, { via: 'token' });
    return id;
  }
}

export async function audit(
  db: Kysely<Database>,
  actor: string,
  action: string,
  target: string,
  detail?: Record<string, unknown>,
): Promise<void> {
  await db
    .insertInto('audit_log')
    .values({ at: now(), actor, action, target, detail: detail ? JSON.stringify(detail) : null })
    .execute();
}

export function actorName(p: Principal): string {
  return p.via === 'token' ? `${p.username} (token ${p.tokenId})` : p.username;
}

export async function getSetting(db: Kysely<Database>, key: string): Promise<string | undefined> {
  return (await db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
}

export async function setSetting(db: Kysely<Database>, key: string, value: string): Promise<void> {
  await db
    .insertInto('settings')
    .values({ key, value })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
    .execute();
}
