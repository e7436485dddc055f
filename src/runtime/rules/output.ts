/**
 * Alerts and their rendering, exactly as Falco prints them: text
 * `HH:MM:SS.nnnnnnnnn: Priority output` and JSON with keys in Falco's (sorted) order:
 * hostname, output, output_fields, priority, rule, source, tags, time.
 */
export type AlertFormat = 'json' | 'text';

export interface Alert {
  /** event time, ns since the epoch */
  ts: bigint;
  rule: string;
  /** Falco's capitalised priority name: Emergency, Alert, Critical, Error, Warning, Notice, Informational, Debug */
  priority: string;
  /** the rule's output with %fields resolved (no time/priority prefix) */
  output: string;
  output_fields: Record<string, string | number | boolean | null>;
  tags: string[];
  source: string;
  hostname: string;
  /** evt.num of the event that fired (not part of Falco's JSON) */
  evtNum: number;
}

/** ISO-8601 UTC time with nanoseconds, as Falco's JSON `time`. */
export function isoTime(ts: bigint): string {
  const ms = Number(ts / 1000000n);
  const ns = (ts % 1000000000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + ns + 'Z';
}

/** evt.time as Falco prints it (HH:MM:SS.nnnnnnnnn, UTC here). */
export function clockTime(ts: bigint): string {
  const ms = Number(ts / 1000000n);
  const ns = (ts % 1000000000n).toString().padStart(9, '0');
  return new Date(ms).toISOString().slice(11, 19) + '.' + ns;
}

export function formatAlert(a: Alert, format: AlertFormat): string {
  const line = `${clockTime(a.ts)}: ${a.priority} ${a.output}`;
  if (format === 'text') return line;
  return JSON.stringify({
    hostname: a.hostname,
    output: line,
    output_fields: a.output_fields,
    priority: a.priority,
    rule: a.rule,
    source: a.source,
    tags: a.tags,
    time: isoTime(a.ts),
  });
}
