/** Scrape-time gauges of the findings store. */
import { Gauge } from '../metrics.js';
import type { ServerContext } from '../context.js';
import { findingsBase } from './scans.js';

export function systemGauges(s: ServerContext): void {
  s.metrics.register(
    new Gauge(
      'bulwark_findings',
      'Unsuppressed findings in the latest scan of each image, by severity',
      async () => {
        const rows = await findingsBase(s, { suppressed: 'exclude' })
          .b.select(['f.severity', (eb) => eb.fn.countAll<number>().as('n')])
          .groupBy('f.severity')
          .execute();
        return rows.map((r) => [{ severity: r.severity }, Number(r.n)]);
      },
    ),
  );
  s.metrics.register(
    new Gauge('bulwark_images', 'Images with at least one scan', async () => {
      const r = await s.db
        .selectFrom('images')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('last_scan_id', 'is not', null)
        .executeTakeFirstOrThrow();
      return [[{}, Number(r.n)]];
    }),
  );
  s.metrics.register(
    new Gauge('bulwark_outbox', 'Notification outbox entries by status', async () => {
      const rows = await s.db
        .selectFrom('outbox')
        .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
        .groupBy('status')
        .execute();
      return rows.map((r) => [{ status: r.status }, Number(r.n)]);
    }),
  );
}
