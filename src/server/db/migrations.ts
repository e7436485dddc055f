/**
 * Schema migrations, the same for SQLite and PostgreSQL; only the auto-increment id column differs.
 * Add a new entry to MIGRATIONS for every change; never edit one that has shipped.
 */
import {
  sql,
  Migrator,
  type Kysely,
  type Migration,
  type MigrationProvider,
  type CreateTableBuilder,
} from 'kysely';

export type Dialect = 'sqlite' | 'postgres';

function withId<T extends string>(
  t: CreateTableBuilder<T, never>,
  dialect: Dialect,
): CreateTableBuilder<T, 'id'> {
  return dialect === 'postgres'
    ? t.addColumn('id', 'serial', (c) => c.primaryKey())
    : t.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
}

function initial(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      const table = (name: string) => withId(db.schema.createTable(name), dialect);
      await table('users')
        .addColumn('username', 'text', (c) => c.notNull().unique())
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('csrf', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await table('api_tokens')
        .addColumn('user_id', 'integer', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('prefix', 'text', (c) => c.notNull().unique())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_used_at', 'text')
        .execute();
      await table('audit_log')
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('detail', 'text')
        .execute();
      await table('images')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('registry_id', 'integer')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('os', 'text')
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_scan_id', 'integer')
        .addColumn('last_scan_at', 'text')
        .addUniqueConstraint('images_name_digest', ['name', 'digest'])
        .execute();
      await table('scans')
        .addColumn('image_id', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('advisory_db', 'text')
        .addColumn('critical', 'integer', (c) => c.notNull())
        .addColumn('high', 'integer', (c) => c.notNull())
        .addColumn('medium', 'integer', (c) => c.notNull())
        .addColumn('low', 'integer', (c) => c.notNull())
        .addColumn('unknown', 'integer', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('scans_image').on('scans').columns(['image_id', 'created_at']).execute();
      await table('findings')
        .addColumn('scan_id', 'integer', (c) => c.notNull())
        .addColumn('image_id', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('advisory_id', 'text', (c) => c.notNull())
        .addColumn('severity', 'text', (c) => c.notNull())
        .addColumn('severity_rank', 'integer', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('pkg_name', 'text', (c) => c.notNull())
        .addColumn('pkg_version', 'text', (c) => c.notNull())
        .addColumn('pkg_purl', 'text', (c) => c.notNull())
        .addColumn('ecosystem', 'text', (c) => c.notNull())
        .addColumn('fixed_version', 'text', (c) => c.notNull())
        .addColumn('fixable', 'integer', (c) => c.notNull())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('fkey', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('findings_scan_sev')
        .on('findings')
        .columns(['scan_id', 'severity_rank', 'id'])
        .execute();
      await db.schema.createIndex('findings_advisory').on('findings').columns(['advisory_id']).execute();
      await db.schema.createIndex('findings_pkg').on('findings').columns(['pkg_name']).execute();
      await table('suppressions')
        .addColumn('advisory_id', 'text', (c) => c.notNull())
        .addColumn('pkg_name', 'text', (c) => c.notNull())
        .addColumn('image_name', 'text', (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('owner', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await table('registries')
        .addColumn('name', 'text', (c) => c.notNull().unique())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('ca_cert', 'text', (c) => c.notNull())
        .addColumn('insecure', 'integer', (c) => c.notNull())
        .addColumn('repositories', 'text', (c) => c.notNull())
        .addColumn('tag_filter', 'text', (c) => c.notNull())
        .addColumn('schedule_minutes', 'integer', (c) => c.notNull())
        .addColumn('last_scheduled_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await table('jobs')
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('payload', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('max_attempts', 'integer', (c) => c.notNull())
        .addColumn('run_after', 'text', (c) => c.notNull())
        .addColumn('progress', 'integer', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('locked_by', 'text')
        .addColumn('locked_at', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addColumn('finished_at', 'text')
        .execute();
      await db.schema.createIndex('jobs_status').on('jobs').columns(['status', 'run_after']).execute();
      await db.schema
        .createTable('settings')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
      await table('notify_destinations')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('config', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await table('notify_rules')
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('min_severity', 'text', (c) => c.notNull())
        .addColumn('registry_filter', 'text', (c) => c.notNull())
        .addColumn('destination_id', 'integer', (c) => c.notNull())
        .addColumn('enabled', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await table('outbox')
        .addColumn('destination_id', 'integer', (c) => c.notNull())
        .addColumn('event', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull())
        .addColumn('next_attempt_at', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('delivered_at', 'text')
        .execute();
      await db.schema
        .createIndex('outbox_status')
        .on('outbox')
        .columns(['status', 'next_attempt_at'])
        .execute();
    },
  };
}

/**
 * Findings lists filtered by severity/fixability across all images: a covering index, so counting
 * and the suppression check read the index only, not the rows.
 */
function findingsRankIndex(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex('findings_rank_cover')
        .on('findings')
        .columns(['severity_rank', 'fixable', 'id', 'scan_id', 'image_id', 'advisory_id', 'pkg_name'])
        .execute();
      await db.schema
        .createIndex('suppressions_advisory')
        .on('suppressions')
        .columns(['advisory_id'])
        .execute();
      await db.schema.createIndex('images_last_scan').on('images').columns(['last_scan_id']).execute();
    },
  };
}

/**
 * Reports stored per source: each image keeps the latest scan of every source (a registry, a CI
 * token, a user) in image_sources; with more than one source the image's view (last_scan_id) is a
 * merged scan row (source "merged", merged_from = the source scans) whose findings are the union.
 * scans.is_view marks rows that were an image's view (the dashboard trend reads only those).
 */
function scanSources(): Migration {
  return {
    async up(db: Kysely<any>) {
      await db.schema
        .alterTable('scans')
        .addColumn('source_key', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema.alterTable('scans').addColumn('merged_from', 'text').execute();
      await db.schema
        .alterTable('scans')
        .addColumn('is_view', 'integer', (c) => c.notNull().defaultTo(1))
        .execute();
      await db
        .updateTable('scans')
        .set({
          source_key: sql`case when source = 'registry' then 'registry:' || coalesce((select registry_id from images where images.id = scans.image_id), 0) else 'upload:' || submitted_by end`,
        })
        .execute();
      await db.schema
        .createTable('image_sources')
        .addColumn('image_id', 'integer', (c) => c.notNull())
        .addColumn('source_key', 'text', (c) => c.notNull())
        .addColumn('scan_id', 'integer', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('image_sources_pk', ['image_id', 'source_key'])
        .execute();
      await db
        .insertInto('image_sources')
        .columns(['image_id', 'source_key', 'scan_id', 'updated_at'])
        .expression(
          db
            .selectFrom('images as i')
            .innerJoin('scans as s', 's.id', 'i.last_scan_id')
            .select(['i.id', 's.source_key', 's.id as scan_id', 's.created_at']),
        )
        .execute();
      await db.schema
        .createIndex('scans_image_source')
        .on('scans')
        .columns(['image_id', 'source_key', 'id'])
        .execute();
    },
  };
}

/**
 * Runtime events from the node agents (alerts of the rules engine, profile deviations, responses):
 * one row per event, unique by the agent's event id (a batch re-sent after a lost answer is not
 * doubled), with the columns the runtime page filters and groups by; the whole event as JSON in
 * `body`; its tags as ",a,b," in `tags` (filtering by any tag). ATT&CK techniques and tactics also
 * in their own table, so events are counted by technique without reading every row.
 */
/** (also: the cluster of API tokens and scans) */
function runtimeEvents(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await withId(db.schema.createTable('runtime_events'), dialect)
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('rule', 'text', (c) => c.notNull())
        .addColumn('priority', 'text', (c) => c.notNull())
        .addColumn('priority_rank', 'integer', (c) => c.notNull())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('output', 'text', (c) => c.notNull())
        .addColumn('container_id', 'text', (c) => c.notNull())
        .addColumn('container_name', 'text', (c) => c.notNull())
        .addColumn('image', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('pod', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      const idx = (name: string, cols: string[]) =>
        db.schema.createIndex(name).on('runtime_events').columns(cols).execute();
      await idx('runtime_events_time', ['time', 'id']);
      await idx('runtime_events_rule', ['rule', 'time']);
      await idx('runtime_events_prio', ['priority_rank', 'time']);
      await idx('runtime_events_container', ['container_id', 'time']);
      await idx('runtime_events_ns', ['namespace', 'time']);
      await idx('runtime_events_image', ['image', 'time']);
      await db.schema
        .createTable('runtime_event_tags')
        .addColumn('event_row', 'integer', (c) => c.notNull())
        .addColumn('tag', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('runtime_event_tags_pk', ['tag', 'event_row'])
        .execute();
      // the latest stats of each node agent
      await withId(db.schema.createTable('runtime_agents'), dialect)
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('run_id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('drops', 'integer', (c) => c.notNull())
        .addColumn('stats', 'text', (c) => c.notNull())
        .addUniqueConstraint('runtime_agents_node', ['cluster', 'node'])
        .execute();
      // east-west flows: one row per (cluster, source, destination, protocol, port, verdict)
      await withId(db.schema.createTable('network_flows'), dialect)
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('edge', 'text', (c) => c.notNull())
        .addColumn('src', 'text', (c) => c.notNull())
        .addColumn('src_ns', 'text', (c) => c.notNull())
        .addColumn('dst', 'text', (c) => c.notNull())
        .addColumn('dst_ns', 'text', (c) => c.notNull())
        .addColumn('protocol', 'text', (c) => c.notNull())
        .addColumn('port', 'integer', (c) => c.notNull())
        .addColumn('verdict', 'text', (c) => c.notNull())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('first_seen', 'text', (c) => c.notNull())
        .addColumn('last_seen', 'text', (c) => c.notNull())
        .addColumn('nodes', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .addUniqueConstraint('network_flows_edge', ['cluster', 'edge'])
        .execute();
      await db.schema.createIndex('network_flows_seen').on('network_flows').columns(['last_seen']).execute();
      // flow records already counted (agents re-send after a lost answer)
      await db.schema
        .createTable('network_flow_ids')
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .execute();
      // multi-cluster: a token may belong to one cluster (its agents' events and CI uploads carry it)
      await db.schema
        .alterTable('api_tokens')
        .addColumn('cluster', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema
        .alterTable('scans')
        .addColumn('cluster', 'text', (c) => c.notNull().defaultTo(''))
        .execute();
      await db.schema.createIndex('scans_cluster').on('scans').columns(['cluster', 'image_id']).execute();
      await db.schema
        .createIndex('runtime_event_tags_row')
        .on('runtime_event_tags')
        .columns(['event_row'])
        .execute();
    },
  };
}

/**
 * Behaviour profiles in the console (#10): the latest profile each node agent reported per workload
 * (runtime_profiles), the deviation and response events indexed by workload and by what a response
 * undoes (runtime_workload_events, filled as events are stored; existing ones backfilled here), the
 * modes operators set per cluster and workload (runtime_modes) and the commands waiting for an agent
 * to pull them (runtime_commands: undo a response).
 */
function runtimeProfiles(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await withId(db.schema.createTable('runtime_profiles'), dialect)
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('workload', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('reported_at', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('counts', 'text', (c) => c.notNull())
        .addColumn('profile', 'text', (c) => c.notNull())
        .addUniqueConstraint('runtime_profiles_key', ['cluster', 'node', 'workload'])
        .execute();
      await db.schema
        .createTable('runtime_workload_events')
        .addColumn('event_row', 'integer', (c) => c.primaryKey())
        .addColumn('event_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('workload', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('reversible', 'integer', (c) => c.notNull())
        .addColumn('undoes', 'text', (c) => c.notNull())
        .addColumn('command', 'integer')
        .execute();
      await db.schema
        .createIndex('runtime_workload_events_wl')
        .on('runtime_workload_events')
        .columns(['cluster', 'workload', 'kind', 'time'])
        .execute();
      await db.schema
        .createIndex('runtime_workload_events_undoes')
        .on('runtime_workload_events')
        .columns(['undoes'])
        .execute();
      await db.schema
        .createIndex('runtime_workload_events_eid')
        .on('runtime_workload_events')
        .columns(['event_id'])
        .execute();
      await db.schema
        .createTable('runtime_modes')
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('workload', 'text', (c) => c.notNull())
        .addColumn('mode', 'text', (c) => c.notNull())
        .addColumn('set_by', 'text', (c) => c.notNull())
        .addColumn('set_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('runtime_modes_pk', ['cluster', 'workload'])
        .execute();
      await withId(db.schema.createTable('runtime_commands'), dialect)
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('created_by', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('pulled_at', 'text')
        .addColumn('done_at', 'text')
        .addColumn('result_event', 'text')
        .addColumn('error', 'text')
        .execute();
      await db.schema
        .createIndex('runtime_commands_agent')
        .on('runtime_commands')
        .columns(['cluster', 'node', 'state'])
        .execute();
      await db.schema
        .createIndex('runtime_commands_target')
        .on('runtime_commands')
        .columns(['target'])
        .execute();
      // deviations and responses stored before this migration
      let after = 0;
      for (;;) {
        const rows = (await db
          .selectFrom('runtime_events')
          .select(['id', 'event_id', 'kind', 'cluster', 'node', 'time', 'body'])
          .where('kind', 'in', ['deviation', 'response'])
          .where('id', '>', after)
          .orderBy('id')
          .limit(500)
          .execute()) as {
          id: number;
          event_id: string;
          kind: string;
          cluster: string;
          node: string;
          time: string;
          body: string;
        }[];
        if (!rows.length) break;
        after = rows[rows.length - 1]!.id;
        const vals = rows.map((r) =>
          workloadEventRow(
            r.id,
            r.event_id,
            r.kind,
            r.cluster,
            r.node,
            r.time,
            JSON.parse(r.body) as Record<string, unknown>,
          ),
        );
        await db.insertInto('runtime_workload_events').values(vals).execute();
      }
    },
  };
}

/** The runtime_workload_events row of a deviation or response event (also used as events are stored). */
export function workloadEventRow(
  row: number,
  eventId: string,
  kind: string,
  cluster: string,
  node: string,
  time: string,
  body: Record<string, unknown>,
): {
  event_row: number;
  event_id: string;
  kind: string;
  cluster: string;
  node: string;
  workload: string;
  time: string;
  action: string;
  status: string;
  reversible: number;
  undoes: string;
  command: number | null;
} {
  const r = (body.response ?? {}) as Record<string, unknown>;
  const trig = (r.trigger ?? {}) as Record<string, unknown>;
  const dev = (body.deviation ?? {}) as Record<string, unknown>;
  const s = (v: unknown) => (typeof v === 'string' ? v : '');
  const workload = s(body.workload) || s(trig.workload);
  return {
    event_row: row,
    event_id: eventId,
    kind,
    cluster,
    node,
    workload,
    time,
    action: kind === 'response' ? s(r.action) : s(body.action) || s(dev.type),
    status: kind === 'response' ? s(r.status) : s(body.action),
    reversible: r.reversible === true ? 1 : 0,
    undoes: s(r.undoes),
    command: typeof r.command === 'number' && Number.isInteger(r.command) ? r.command : null,
  };
}

/** CIS benchmark runs sent by node agents (#14): the last runs per cluster + node + benchmark. */
function benchmarkRuns(dialect: Dialect): Migration {
  return {
    async up(db: Kysely<any>) {
      await withId(db.schema.createTable('benchmark_runs'), dialect)
        .addColumn('event_id', 'text', (c) => c.notNull().unique())
        .addColumn('cluster', 'text', (c) => c.notNull())
        .addColumn('node', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('benchmark_id', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('title', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('error', 'text', (c) => c.notNull())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('started_at', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('submitted_by', 'text', (c) => c.notNull())
        .addColumn('duration_ms', 'integer', (c) => c.notNull())
        .addColumn('interval_seconds', 'integer', (c) => c.notNull())
        .addColumn('pass', 'integer', (c) => c.notNull())
        .addColumn('fail', 'integer', (c) => c.notNull())
        .addColumn('warn', 'integer', (c) => c.notNull())
        .addColumn('info', 'integer', (c) => c.notNull())
        .addColumn('score', 'integer')
        .addColumn('has_report', 'integer', (c) => c.notNull())
        .addColumn('report', 'text')
        .execute();
      await db.schema
        .createIndex('benchmark_runs_key')
        .on('benchmark_runs')
        .columns(['cluster', 'node', 'target', 'time'])
        .execute();
    },
  };
}

function imageSignatures(dialect: Dialect): Migration {
  return {
    async up(db) {
      await withId(db.schema.createTable('image_signatures'), dialect)
        .addColumn('image_id', 'integer', (c) => c.notNull().unique())
        .addColumn('digest', 'text', (c) => c.notNull())
        .addColumn('checked_at', 'text', (c) => c.notNull())
        .addColumn('summary', 'text', (c) => c.notNull())
        .execute();
    },
  };
}

const MIGRATIONS: Record<string, (d: Dialect) => Migration> = {
  '0001_initial': initial,
  '0002_findings_rank_index': findingsRankIndex,
  '0003_scan_sources': scanSources,
  '0004_runtime_events': runtimeEvents,
  '0005_runtime_profiles': runtimeProfiles,
  '0006_benchmark_runs': benchmarkRuns,
  '0007_image_signatures': imageSignatures,
};

/** Migrates to the latest schema, or up to and including `target` (tests of upgrades). */
export async function migrate(db: Kysely<any>, dialect: Dialect, target?: string): Promise<void> {
  const provider: MigrationProvider = {
    async getMigrations() {
      return Object.fromEntries(Object.entries(MIGRATIONS).map(([k, f]) => [k, f(dialect)]));
    },
  };
  const migrator = new Migrator({ db, provider });
  const { error, results } = await (target ? migrator.migrateTo(target) : migrator.migrateToLatest());
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(
      `database migration ${failed ?? ''} failed: ${(error as Error).message ?? String(error)}`,
    );
  }
}
