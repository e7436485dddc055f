/**
 * East-west flows from the node agents (`kind: 'flow'` records in the runtime batches, or over the
 * event bus): each record is a Bulwark flow record (src/network/flow.ts, a superset of Hubble's)
 * already aggregated by the agent over an interval; the console adds it into one row per
 * (cluster, source, destination, protocol, port, verdict), once per record id however often an
 * agent re-sends it.
 */
import type { Kysely } from 'kysely';
import { endpointKey, parseFlows, type FlowRecord } from '../network/flow.js';
import type { Database } from './db/index.js';

export interface PostedFlow {
  id: string;
  kind: 'flow';
  time: string;
  node: string;
  cluster?: string;
  flow: FlowRecord;
}

/** The record validated as `netpol` reads flow records; throws with the reason. */
export function parseFlowRecord(flow: unknown, where: string): FlowRecord {
  let recs: FlowRecord[];
  try {
    recs = parseFlows(JSON.stringify(flow), where);
  } catch (e) {
    throw new Error((e as Error).message.replace(/^.*?:\d+: /, ''), { cause: e });
  }
  if (recs.length !== 1 || !recs[0]!.source || !recs[0]!.destination)
    throw new Error('not a flow record (source, destination, protocol)');
  return recs[0]!;
}

export function edgeOf(f: FlowRecord): string {
  return `${endpointKey(f.source)} => ${endpointKey(f.destination)} : ${f.protocol}${f.port !== undefined ? ` ${f.port}` : ''} ${f.verdict}`;
}

const min = (a: string, b: string | undefined) => (b && b < a ? b : a);
const max = (a: string, b: string | undefined) => (b && b > a ? b : a);

/** Adds new flow records (by id) into their edges; returns how many records were new. */
export async function storeFlows(db: Kysely<Database>, flows: PostedFlow[]): Promise<number> {
  if (!flows.length) return 0;
  const at = new Date().toISOString();
  return db.transaction().execute(async (tx) => {
    const fresh = await tx
      .insertInto('network_flow_ids')
      .values([...new Set(flows.map((f) => f.id))].map((id) => ({ event_id: id, received_at: at })))
      .onConflict((oc) => oc.column('event_id').doNothing())
      .returning('event_id')
      .execute();
    const isNew = new Set(fresh.map((r) => r.event_id));
    // one update per edge and batch
    const edges = new Map<string, { cluster: string; rec: FlowRecord; nodes: Set<string> }>();
    for (const p of flows) {
      if (!isNew.has(p.id)) continue;
      isNew.delete(p.id);
      const f = p.flow;
      const seenFirst = f.firstSeen ?? p.time;
      const seenLast = f.lastSeen ?? p.time;
      const key = `${p.cluster ?? ''}\u0000${edgeOf(f)}`;
      const e = edges.get(key);
      if (!e)
        edges.set(key, {
          cluster: p.cluster ?? '',
          rec: { ...f, firstSeen: seenFirst, lastSeen: seenLast },
          nodes: new Set([p.node]),
        });
      else {
        e.rec.count += f.count;
        e.rec.firstSeen = min(e.rec.firstSeen!, seenFirst);
        e.rec.lastSeen = max(e.rec.lastSeen!, seenLast);
        e.nodes.add(p.node);
      }
    }
    for (const { cluster, rec, nodes } of edges.values()) {
      const edge = edgeOf(rec);
      const old = await tx
        .selectFrom('network_flows')
        .select(['id', 'count', 'first_seen', 'last_seen', 'nodes'])
        .where('cluster', '=', cluster)
        .where('edge', '=', edge)
        .executeTakeFirst();
      if (old) {
        const all = new Set([...(JSON.parse(old.nodes) as string[]), ...nodes]);
        const merged = {
          ...rec,
          count: old.count + rec.count,
          firstSeen: min(old.first_seen, rec.firstSeen),
          lastSeen: max(old.last_seen, rec.lastSeen),
        };
        await tx
          .updateTable('network_flows')
          .set({
            count: merged.count,
            first_seen: merged.firstSeen,
            last_seen: merged.lastSeen,
            nodes: JSON.stringify([...all].sort()),
            record: JSON.stringify(merged),
          })
          .where('id', '=', old.id)
          .execute();
      } else
        await tx
          .insertInto('network_flows')
          .values({
            cluster,
            edge,
            src: endpointKey(rec.source),
            src_ns: rec.source.namespace ?? '',
            dst: endpointKey(rec.destination),
            dst_ns: rec.destination.namespace ?? '',
            protocol: rec.protocol,
            port: rec.port ?? -1,
            verdict: rec.verdict,
            count: rec.count,
            first_seen: rec.firstSeen!,
            last_seen: rec.lastSeen!,
            nodes: JSON.stringify([...nodes].sort()),
            record: JSON.stringify(rec),
          })
          .execute();
    }
    return fresh.length;
  });
}
