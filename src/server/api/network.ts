/**
 * East-west flows: the edges the agents observed (list, map, and the flow records as
 * `bulwark netpol generate --server` reads them).
 */
import { sql } from 'kysely';
import { z } from 'zod';
import type { ServerContext } from '../context.js';
import type { Database } from '../db/index.js';
import { countRows, likeEscape, likeSql, page, pageOf, pagingQuery } from '../http.js';
import type { SelectQueryBuilder } from 'kysely';

const Filters = z.object({
  cluster: z.string().max(253).optional(),
  namespace: z.string().max(253).optional().meta({ description: 'source or destination namespace' }),
  verdict: z.string().max(20).optional(),
  q: z.string().max(200).optional().meta({ description: 'text in the source or destination' }),
  since: z.iso.datetime({ offset: true }).optional().meta({ description: 'last seen at or after' }),
});
type F = z.output<typeof Filters>;

const FlowOut = z
  .object({
    id: z.number().int(),
    cluster: z.string(),
    source: z.string(),
    destination: z.string(),
    protocol: z.string(),
    port: z.number().int().nullable(),
    verdict: z.string(),
    count: z.number().int(),
    firstSeen: z.string(),
    lastSeen: z.string(),
    nodes: z.array(z.string()),
  })
  .meta({ id: 'NetworkFlow' });

type Q<O> = SelectQueryBuilder<Database, 'network_flows', O>;
function filtered<O>(b: Q<O>, f: F): Q<O> {
  if (f.cluster !== undefined) b = b.where('cluster', '=', f.cluster);
  if (f.namespace) {
    const ns = f.namespace;
    b = b.where((eb) => eb.or([eb('src_ns', '=', ns), eb('dst_ns', '=', ns)]));
  }
  if (f.verdict) b = b.where('verdict', '=', f.verdict.toUpperCase());
  if (f.since) b = b.where('last_seen', '>=', new Date(f.since).toISOString());
  if (f.q) {
    const p = `%${likeEscape(f.q.toLowerCase())}%`;
    b = b.where((eb) => eb.or([likeSql(sql`lower(src)`, p), likeSql(sql`lower(dst)`, p)]));
  }
  return b;
}

const COLS = [
  'id',
  'cluster',
  'src',
  'dst',
  'protocol',
  'port',
  'verdict',
  'count',
  'first_seen',
  'last_seen',
  'nodes',
] as const;
const out = (r: {
  id: number;
  cluster: string;
  src: string;
  dst: string;
  protocol: string;
  port: number;
  verdict: string;
  count: number;
  first_seen: string;
  last_seen: string;
  nodes: string;
}) => ({
  id: r.id,
  cluster: r.cluster,
  source: r.src,
  destination: r.dst,
  protocol: r.protocol,
  port: r.port < 0 ? null : r.port,
  verdict: r.verdict,
  count: Number(r.count),
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  nodes: JSON.parse(r.nodes) as string[],
});

export function networkRoutes(s: ServerContext): void {
  const { router, db } = s;

  router.add({
    method: 'GET',
    url: '/api/network/flows',
    tag: 'network',
    access: 'viewer',
    summary: 'Observed east-west flows, one per source, destination, protocol, port and verdict',
    query: pagingQuery(['lastSeen', 'count'], 'lastSeen').extend(Filters.shape),
    response: page(FlowOut),
    async handler({ query }) {
      const b = filtered(db.selectFrom('network_flows'), query);
      const total = await countRows(b);
      const rows = await b
        .select([...COLS])
        .orderBy(query.sort === 'count' ? 'count' : 'last_seen', query.order)
        .orderBy('id', query.order)
        .$call((q) => pageOf(q, query))
        .execute();
      return { items: rows.map(out), total, page: query.page, pageSize: query.pageSize };
    },
  });

  router.add({
    method: 'GET',
    url: '/api/network/flows.jsonl',
    tag: 'network',
    access: 'viewer',
    summary:
      'The flows as Bulwark flow records, one JSON line each (what `bulwark netpol generate --flows` and `--server` read)',
    query: Filters,
    responseText: 'application/x-ndjson',
    async handler({ query, reply }) {
      const rows = await filtered(db.selectFrom('network_flows'), query)
        .select(['record'])
        .orderBy('id')
        .execute();
      reply.type('application/x-ndjson; charset=utf-8');
      return rows.map((r) => r.record + '\n').join('');
    },
  });

  router.add({
    method: 'GET',
    url: '/api/network/map',
    tag: 'network',
    access: 'viewer',
    summary: 'The network map: workloads (grouped by namespace) and external peers as nodes, flows as edges',
    query: Filters,
    response: z.object({
      nodes: z.array(
        z.object({
          id: z.string(),
          namespace: z.string(),
          name: z.string(),
          kind: z.string().meta({ description: 'Deployment, StatefulSet, Pod..., or External' }),
        }),
      ),
      edges: z.array(FlowOut),
      truncated: z.boolean(),
    }),
    async handler({ query }) {
      const LIMIT = 5000;
      const rows = await filtered(db.selectFrom('network_flows'), query)
        .select([...COLS])
        .orderBy('last_seen', 'desc')
        .limit(LIMIT + 1)
        .execute();
      const edges = rows.slice(0, LIMIT).map(out);
      const nodes = new Map<string, { id: string; namespace: string; name: string; kind: string }>();
      const node = (id: string) => {
        if (nodes.has(id)) return;
        const m = /^(?:(.*)\/)?(.*)\[(.*)\]$/.exec(id);
        nodes.set(id, { id, namespace: m?.[1] ?? '', name: m?.[2] ?? id, kind: m?.[3] ?? '' });
      };
      for (const e of edges) {
        node(e.source);
        node(e.destination);
      }
      return {
        nodes: [...nodes.values()].sort(
          (a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name),
        ),
        edges,
        truncated: rows.length > LIMIT,
      };
    },
  });
}
