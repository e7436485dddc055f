/**
 * Route definitions with zod schemas: one `defineRoute` call registers the Fastify route, enforces
 * authentication, role and CSRF, validates params/query/body, and feeds the OpenAPI document.
 */
import { sql, type Expression, type RawBuilder, type SelectQueryBuilder, type SqlBool } from 'kysely';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { EXPORT_FORMATS, EXPORT_MAX_ROWS, toCsv } from './export.js';

const zhCN = z.locales.zhCN();
import type { Principal, Role } from './auth.js';
import {
  format,
  msg,
  VALIDATION_ZH,
  type Message,
  type MessageKey,
  type MessageParams,
  type UiLanguage,
} from './messages.js';

export const ROLES = ['viewer', 'operator', 'admin'] as const;

export class HttpError extends Error {
  /** The message's key in SERVER_MESSAGES and its parameters (for translations). */
  readonly key?: MessageKey;
  readonly params?: MessageParams;
  constructor(
    readonly status: number,
    readonly code: string,
    message: string | Message,
    /** Parameters already in another language (validation details), by language. */
    readonly localized?: Partial<Record<UiLanguage, MessageParams>>,
  ) {
    super(typeof message === 'string' ? message : format(message.key, message.params));
    if (typeof message !== 'string') {
      this.key = message.key;
      this.params = message.params;
    }
  }

  body(): {
    error: {
      code: string;
      message: string;
      key?: string;
      params?: MessageParams;
      localized?: Partial<Record<UiLanguage, MessageParams>>;
    };
  } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.key ? { key: this.key } : {}),
        ...(this.params ? { params: this.params } : {}),
        ...(this.localized ? { localized: this.localized } : {}),
      },
    };
  }
}

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string().meta({ description: 'English text' }),
      key: z.string().optional().meta({ description: 'message key (translations: srv.<key> in the web UI)' }),
      params: z.record(z.string(), z.union([z.string(), z.number()])).optional(),
      localized: z
        .record(z.string(), z.record(z.string(), z.union([z.string(), z.number()])))
        .optional()
        .meta({ description: 'parameters already translated, by language (validation details)' }),
    }),
  })
  .meta({ id: 'Error' });

export type Access = 'public' | Role;

export interface RouteCtx<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  /** Set for every non-public route. */
  principal: Principal;
  req: FastifyRequest;
  reply: FastifyReply;
}

export interface RouteDef<
  P extends z.ZodType,
  Q extends z.ZodType,
  B extends z.ZodType,
  R extends z.ZodType,
> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  tag: string;
  access: Access;
  params?: P;
  query?: Q;
  body?: B;
  /** JSON response schema (documentation); `text` for non-JSON bodies. */
  response?: R;
  responseText?: string;
  status?: number;
  /**
   * Largest request body accepted (bytes). Default: PUBLIC_BODY_LIMIT for public routes, AUTH_BODY_LIMIT
   * otherwise. Bodies of non-public routes are read only after authentication succeeded.
   */
  bodyLimit?: number;
  handler(ctx: RouteCtx<z.output<P>, z.output<Q>, z.output<B>>): Promise<z.input<R> | string | void>;
}

export interface Authenticator {
  /** Principal for the request or undefined (no/invalid credentials). */
  authenticate(req: FastifyRequest): Promise<Principal | undefined>;
  /** True when the request carries a valid CSRF token for its session (or needs none). */
  csrfOk(req: FastifyRequest, p: Principal): boolean;
}

interface Documented {
  def: RouteDef<any, any, any, any>;
}

const rank: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

/** Body limit of unauthenticated routes (login, bootstrap) and of anything no route claims. */
export const PUBLIC_BODY_LIMIT = 8 * 1024;
/** Default body limit of authenticated routes. */
export const AUTH_BODY_LIMIT = 1024 * 1024;
/** Body limit of report uploads. */
export const UPLOAD_BODY_LIMIT = 64 * 1024 * 1024;

const principals = new WeakMap<FastifyRequest, Principal>();

/** True when the client sent (or is still sending) a body the server has not read. */
export function bodyPending(req: FastifyRequest): boolean {
  const h = req.headers;
  return (
    !req.raw.readableEnded &&
    (!!h['transfer-encoding'] || (h['content-length'] !== undefined && h['content-length'] !== '0'))
  );
}

export class Router {
  readonly routes: Documented[] = [];
  constructor(
    private readonly app: FastifyInstance,
    private readonly auth: Authenticator,
  ) {}

  add<
    P extends z.ZodType = z.ZodObject<Record<string, never>>,
    Q extends z.ZodType = z.ZodObject<Record<string, never>>,
    B extends z.ZodType = z.ZodUnknown,
    R extends z.ZodType = z.ZodUnknown,
  >(def: RouteDef<P, Q, B, R>): void {
    this.routes.push({ def });
    const auth = this.auth;
    this.app.route({
      method: def.method,
      url: def.url,
      bodyLimit: def.bodyLimit ?? (def.access === 'public' ? PUBLIC_BODY_LIMIT : AUTH_BODY_LIMIT),
      // Access is decided before the body is read: an unauthenticated client cannot make the
      // server buffer a large body (Fastify parses bodies between onRequest and preValidation).
      onRequest: async (req) => {
        if (def.access === 'public') return;
        const principal = await auth.authenticate(req);
        if (!principal) throw new HttpError(401, 'UNAUTHENTICATED', msg('auth.required'));
        if (def.method !== 'GET' && !auth.csrfOk(req, principal)) {
          throw new HttpError(403, 'CSRF', msg('auth.csrf'));
        }
        if (rank[principal.role] < rank[def.access])
          throw new HttpError(403, 'FORBIDDEN', msg('auth.role', { role: def.access }));
        principals.set(req, principal);
      },
      handler: async (req, reply) => {
        const principal = principals.get(req);
        if (def.access !== 'public' && !principal)
          throw new HttpError(401, 'UNAUTHENTICATED', msg('auth.required'));
        const params = parse(def.params, req.params, 'path parameter', 'request.invalidParams');
        const query = parse(def.query, req.query, 'query parameter', 'request.invalidQuery');
        const body = parse(def.body, req.body, 'request body', 'request.invalidBody');
        const exp = (req.query as Record<string, unknown> | undefined)?.export;
        if (exp !== undefined && def.method === 'GET' && isPaged(def.query)) {
          if (!(EXPORT_FORMATS as readonly unknown[]).includes(exp))
            throw new HttpError(
              400,
              'BAD_REQUEST',
              msg('request.invalidQuery', { detail: 'export: expected csv or json' }),
            );
          // every page of the list, with its filters and order
          const items: unknown[] = [];
          let total: number;
          for (let pageNo = 1; ; pageNo++) {
            const q = { ...(query as object), page: pageNo, pageSize: 500 };
            const ctx = { params, query: q, body, principal: principal!, req, reply };
            const out = (await def.handler(ctx as RouteCtx<any, any, any>)) as {
              items: unknown[];
              total: number;
            };
            items.push(...out.items);
            total = out.total;
            if (!out.items.length || items.length >= total || items.length >= EXPORT_MAX_ROWS) break;
          }
          const name = def.url.replace(/^\/api\//, '').replace(/[^A-Za-z0-9]+/g, '-');
          reply.header('content-disposition', `attachment; filename="bulwark-${name}.${String(exp)}"`);
          reply.header('x-total-count', String(total));
          if (items.length < total) reply.header('x-export-truncated', String(items.length));
          if (exp === 'csv') return reply.type('text/csv; charset=utf-8').send(toCsv(items));
          return reply.type('application/json; charset=utf-8').send(JSON.stringify(items));
        }
        const out = await def.handler({ params, query, body, principal: principal!, req, reply } as RouteCtx<
          any,
          any,
          any
        >);
        if (reply.sent) return;
        if (def.status) reply.code(def.status);
        if (typeof out === 'string') return reply.send(out);
        return out === undefined ? reply.code(def.status ?? 204).send() : out;
      },
    });
  }

  /** OpenAPI 3.1 document of every route added. */
  openapi(info: { title: string; version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {};
    const registry = z.registry<{ id: string }>();
    const schemas: Record<string, unknown> = {};
    const toSchema = (s: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
      const js = z.toJSONSchema(s, {
        io,
        unrepresentable: 'any',
        target: 'draft-2020-12',
        reused: 'inline',
      }) as Record<string, unknown>;
      delete js.$schema;
      return js;
    };
    void registry;
    for (const { def } of this.routes) {
      const path = def.url.replace(/:([A-Za-z_]+)/g, '{$1}');
      const op: Record<string, unknown> = {
        summary: def.summary,
        tags: [def.tag],
        operationId: opId(def.method, def.url),
      };
      const parameters: unknown[] = [];
      for (const [where, schema] of [
        ['path', def.params],
        ['query', def.query],
      ] as const) {
        if (!schema) continue;
        const js = toSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
        for (const [name, s] of Object.entries(js.properties ?? {})) {
          parameters.push({
            name,
            in: where,
            required: where === 'path' || (js.required ?? []).includes(name),
            schema: s,
          });
        }
      }
      if (def.method === 'GET' && isPaged(def.query))
        parameters.push({
          name: 'export',
          in: 'query',
          required: false,
          description: 'every matching row (not one page) as a CSV or JSON download',
          schema: { type: 'string', enum: [...EXPORT_FORMATS] },
        });
      if (parameters.length) op.parameters = parameters;
      if (def.body)
        op.requestBody = {
          required: true,
          content: { 'application/json': { schema: toSchema(def.body, 'input') } },
        };
      const ok = String(def.status ?? 200);
      const responses: Record<string, unknown> = {};
      if (def.responseText)
        responses[ok] = {
          description: 'OK',
          content: { [def.responseText]: { schema: { type: 'string' } } },
        };
      else if (def.response)
        responses[ok] = {
          description: 'OK',
          content: { 'application/json': { schema: toSchema(def.response, 'output') } },
        };
      else responses[ok === '200' ? '204' : ok] = { description: 'No content' };
      const err = {
        description: 'Error',
        content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
      };
      responses['400'] = err;
      if (def.access !== 'public') {
        responses['401'] = err;
        responses['403'] = err;
        op.security = [{ session: [], csrf: [] }, { bearer: [] }];
        op['x-required-role'] = def.access;
      } else op.security = [];
      op.responses = responses;
      (paths[path] ??= {})[def.method.toLowerCase()] = op;
    }
    schemas.Error = toSchema(ErrorBody, 'output');
    return {
      openapi: '3.1.0',
      info: {
        ...info,
        description:
          'Bulwark console API. Sessions: cookie bulwark_session plus the X-CSRF-Token header (value of the bulwark_csrf cookie) on state-changing requests. CI: Authorization: Bearer <API token>.',
      },
      paths,
      components: {
        schemas,
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'bulwark_session' },
          csrf: { type: 'apiKey', in: 'header', name: 'X-CSRF-Token' },
          bearer: { type: 'http', scheme: 'bearer', description: 'API token (bwk_...)' },
        },
      },
    };
  }
}

function opId(method: string, url: string): string {
  const parts = url
    .replace(/^\/api\//, '')
    .split('/')
    .map((p) => (p.startsWith(':') ? 'by_' + p.slice(1) : p));
  return (method.toLowerCase() + '_' + parts.join('_')).replace(/[^A-Za-z0-9_]/g, '_');
}

/**
 * Validates a value, or throws 400 with every issue by path (English, and Chinese in `localized`).
 * `prefix` is put before the paths (an item of a list validated on its own: "events.3").
 */
export function parse<T extends z.ZodType | undefined>(
  schema: T,
  value: unknown,
  what: string,
  key: MessageKey,
  prefix: (string | number)[] = [],
): unknown {
  if (!schema) return value ?? {};
  const r = schema.safeParse(value ?? {});
  const at = (p: PropertyKey[]) => [...prefix, ...p].map(String).join('.');
  if (!r.success) {
    const detail = r.error.issues
      .map((i) => `${i.path.length || prefix.length ? at(i.path) : what}: ${i.message}`)
      .join('; ');
    // The same issues in Chinese: zod's zh-CN messages, our schemas' own ones from VALIDATION_ZH.
    const zh = schema.safeParse(value ?? {}, { error: zhCN.localeError });
    const whatZh =
      { 'path parameter': '路径参数', 'query parameter': '查询参数', 'request body': '请求体' }[what] ?? what;
    const detailZh = zh.success
      ? detail
      : zh.error.issues
          .map((i) => {
            let m = i.message;
            for (const [re, to] of VALIDATION_ZH) if (re.test(m)) m = m.replace(re, to);
            return `${i.path.length || prefix.length ? at(i.path) : whatZh}：${m}`;
          })
          .join('；');
    throw new HttpError(400, 'BAD_REQUEST', { key, params: { detail } }, { 'zh-CN': { detail: detailZh } });
  }
  return r.data;
}

/** Common paging/sorting query: page (1-based), pageSize (≤ 500), sort (field), order. */
/** A list route: its query schema is a paging query (page, pageSize). */
function isPaged(schema: z.ZodType | undefined): boolean {
  const shape = (schema as { shape?: Record<string, unknown> } | undefined)?.shape;
  return !!shape && 'page' in shape && 'pageSize' in shape;
}

export function pagingQuery<S extends readonly [string, ...string[]]>(sortFields: S, defaultSort: S[number]) {
  return z.object({
    page: z.coerce.number().int().min(1).default(1),
    pageSize: z.coerce.number().int().min(1).max(500).default(50),
    sort: z.enum(sortFields).default(defaultSort as never),
    order: z.enum(['asc', 'desc']).default('desc'),
  });
}

/** Rows a filtered query matches, before paging (the `total` of a list page). */
export async function countRows<DB, TB extends keyof DB>(
  b: SelectQueryBuilder<DB, TB, object>,
): Promise<number> {
  const r = (await b.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()) as {
    n: number | string | bigint;
  };
  return Number(r.n);
}

/** The rows of one list page: LIMIT and OFFSET from `page` and `pageSize`. */
export function pageOf<Q extends { limit(n: number): Q; offset(n: number): Q }>(
  b: Q,
  query: { page: number; pageSize: number },
): Q {
  return b.limit(query.pageSize).offset((query.page - 1) * query.pageSize);
}

export function page<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    total: z.number().int(),
    page: z.number().int(),
    pageSize: z.number().int(),
  });
}

/** `s` for a LIKE pattern: % _ and \ taken literally (used with ESCAPE '\', see `likeSql`). */
export function likeEscape(s: string): string {
  return s.replace(/[%_\\]/g, (c) => '\\' + c);
}

/**
 * `expr LIKE pattern ESCAPE '\'`: SQLite has no default escape character (PostgreSQL's is \), so
 * without the ESCAPE clause an escaped "_" in a search matched nothing on SQLite.
 */
export function likeSql(
  expr: Expression<unknown> | RawBuilder<unknown>,
  pattern: string,
): RawBuilder<SqlBool> {
  return sql<SqlBool>`${expr} like ${pattern} escape '\\'`;
}

export const IdParams = z.object({ id: z.coerce.number().int().positive() });
