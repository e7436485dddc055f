/**
 * `bulwark db import|update|status`: the offline OSV advisory database.
 */
import {
  AdvisoryDb,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MIRROR,
  dbState,
  defaultDbPath,
  formatAge,
  importOsv,
  parseMaxAge,
  updateDb,
} from '../vuln/db/index.js';
import { DEFAULT_UPDATE_ECOSYSTEMS } from '../vuln/ecosystem.js';
import type { CliContext } from './context.js';

function dbOption(o: { db?: string }): string {
  return o.db ?? defaultDbPath();
}

export function register(ctx: CliContext): void {
  const db = ctx.program
    .command('db')
    .description('manage the offline vulnerability database (OSV advisories)');

  db.command('import')
    .description(
      'import OSV records from directories, JSON files, zip archives (osv.dev all.zip) or URLs, in one transaction',
    )
    .argument('<source...>', 'path or http(s) URL')
    .option('--db <file>', 'database file (default: $BULWARK_CACHE_DIR or ~/.cache/bulwark/db.sqlite)')
    .action(async (sources: string[], o: { db?: string }) => {
      const log = ctx.logger();
      const handle = AdvisoryDb.open(dbOption(o));
      try {
        const s = await importOsv(handle, sources, { warn: (m) => log.warn(m) });
        process.stdout.write(
          `imported ${s.read} records into ${handle.path}: ${s.inserted} new, ${s.updated} updated, ${s.unchanged} unchanged${s.invalid ? `, ${s.invalid} invalid skipped` : ''}\n`,
        );
      } finally {
        handle.close();
      }
    });

  const update = db.command('update');
  update
    .description('download osv.dev per-ecosystem exports (resumable, verified) and import what changed')
    .option('--db <file>', 'database file')
    .option(
      '--ecosystem <list>',
      `comma-separated OSV ecosystems (default: ${DEFAULT_UPDATE_ECOSYSTEMS.join(',')})`,
    )
    .option(
      '--mirror <url>',
      `base URL serving <ecosystem>/all.zip (default: $BULWARK_OSV_MIRROR or ${DEFAULT_MIRROR})`,
    )
    .action(async (o: { db?: string; ecosystem?: string; mirror?: string }) => {
      const log = ctx.logger();
      const ecosystems = o.ecosystem
        ? o.ecosystem
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : [...DEFAULT_UPDATE_ECOSYSTEMS];
      if (!ecosystems.length)
        update.error('error: --ecosystem: empty list', { exitCode: 2, code: 'bulwark.usage' });
      if (o.mirror && !/^https?:\/\//.test(o.mirror))
        update.error(`error: --mirror: not an http(s) URL: ${o.mirror}`, {
          exitCode: 2,
          code: 'bulwark.usage',
        });
      const handle = AdvisoryDb.open(dbOption(o));
      try {
        const res = await updateDb(handle, {
          ecosystems,
          mirror: o.mirror,
          warn: (m) => log.warn(m),
          info: (m) => log.info(m),
        });
        for (const r of res) {
          process.stdout.write(
            r.status === 'unchanged'
              ? `${r.ecosystem}: unchanged\n`
              : `${r.ecosystem}: ${r.stats!.read} records, ${r.stats!.inserted} new, ${r.stats!.updated} updated${r.resumedFrom ? ` (download resumed at byte ${r.resumedFrom})` : ''}\n`,
          );
        }
      } finally {
        handle.close();
      }
    });

  const status = db.command('status');
  status
    .description(
      'show the database path, schema version, last update, records per ecosystem and whether scans can use it (exit 1 when empty or stale)',
    )
    .option('--db <file>', 'database file')
    .option('--db-max-age <duration>', 'age after which the database is stale (default 7d; 0: never)')
    .option('--format <fmt>', 'table or json', 'table')
    .action((o: { db?: string; format: string; dbMaxAge?: string }) => {
      if (o.format !== 'table' && o.format !== 'json')
        status.error(`error: --format: expected table or json, got "${o.format}"`, {
          exitCode: 2,
          code: 'bulwark.usage',
        });
      const handle = AdvisoryDb.open(dbOption(o), { readonly: true });
      try {
        const maxAge = o.dbMaxAge ?? process.env.BULWARK_DB_MAX_AGE;
        const maxAgeMs = maxAge !== undefined ? parseMaxAge(maxAge) : DEFAULT_MAX_AGE_MS;
        const s = handle.status();
        const { state, ageHours } = dbState(s, maxAgeMs);
        s.state = state;
        if (ageHours !== undefined) s.ageHours = Math.round(ageHours * 10) / 10;
        // like `systemctl status`: scripts can run `db status || db update`
        if (state !== 'ok') ctx.exitCode = 1;
        if (o.format === 'json') {
          process.stdout.write(JSON.stringify(s, null, 2) + '\n');
          return;
        }
        const stateText =
          state === 'empty'
            ? 'EMPTY: no advisories (never imported, or its updates failed); scans refuse it. Run "bulwark db update" or "bulwark db import PATH"'
            : state === 'stale'
              ? `STALE: older than ${formatAge(maxAgeMs / 3600_000)}; scans refuse it. Run "bulwark db update"`
              : 'ok';
        const lines = [
          `Database:        ${s.path}`,
          `Schema version:  ${s.schemaVersion}`,
          `Last update:     ${s.lastUpdate ?? 'never'}${ageHours !== undefined ? ` (${formatAge(ageHours)} ago)` : ''}`,
          `State:           ${stateText}`,
          `Advisories:      ${s.advisories} (${s.withdrawn} withdrawn)`,
          'Ecosystems:',
          ...Object.entries(s.ecosystems).map(([e, n]) => `  ${e.padEnd(16)} ${n}`),
        ];
        if (s.sources.length)
          lines.push(
            'Sources:',
            ...s.sources.map((x) => `  ${x.url}  ${x.updatedAt}${x.etag ? `  etag ${x.etag}` : ''}`),
          );
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        handle.close();
      }
    });
}
