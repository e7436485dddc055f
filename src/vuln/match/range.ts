/**
 * OSV "affected" evaluation for one installed version, following the OSV schema's algorithm:
 * events of a range sorted by version ("introduced: 0" first), then walked in order —
 * introduced ≤ v → affected, fixed ≤ v → not affected, last_affected < v → not affected; a `limit`
 * caps the range (v ≥ limit → not affected). Explicit `versions` lists match exactly.
 * GIT ranges describe commits, not package versions, and are ignored here.
 */
import type { OsvAffected, OsvEvent, OsvRange } from '../osv.js';

export type Compare = (a: string, b: string) => number;

export interface AffectedResult {
  affected: boolean;
  /** `fixed` versions of the ranges that contain the version, above it. */
  fixed: string[];
  /** Versions the scheme could not order (the range was skipped). */
  invalid: string[];
}

type Kind = 'introduced' | 'fixed' | 'last_affected' | 'limit';
/**
 * Order of events at the same version: a fix before an introduction, so adjacent intervals
 * ([0, 3.1.1) and [3.1.1, 3.1.3), as real PyPI records write them) leave 3.1.1 affected.
 */
const ORDER: Record<Kind, number> = { fixed: 0, last_affected: 1, introduced: 2, limit: 3 };

function flatten(events: OsvEvent[]): { kind: Kind; v: string }[] {
  const out: { kind: Kind; v: string }[] = [];
  for (const e of events) {
    for (const kind of ['introduced', 'fixed', 'last_affected', 'limit'] as const) {
      const v = e[kind];
      if (typeof v === 'string') out.push({ kind, v });
    }
  }
  return out;
}

/** Is `version` inside this ECOSYSTEM/SEMVER range? */
/** Sorted events per range object and comparator (records are cached by the store). */
const sortedCache = new WeakMap<OsvRange, { cmp: Compare; events: { kind: Kind; v: string }[] }>();

export function inRange(
  version: string,
  range: OsvRange,
  cmp: Compare,
  normalize: (v: string) => string = (v) => v,
): {
  affected: boolean;
  fixed: string[];
} {
  const key = (e: { kind: Kind; v: string }) =>
    e.kind === 'introduced' && e.v === '0' ? undefined : normalize(e.v);
  let cached = sortedCache.get(range);
  if (!cached || cached.cmp !== cmp) {
    const sorted = flatten(range.events);
    sorted.sort((a, b) => {
      const ka = key(a);
      const kb = key(b);
      if (ka === undefined || kb === undefined)
        return ka === kb ? ORDER[a.kind] - ORDER[b.kind] : ka === undefined ? -1 : 1;
      return cmp(ka, kb) || ORDER[a.kind] - ORDER[b.kind];
    });
    cached = { cmp, events: sorted };
    sortedCache.set(range, cached);
  }
  const events = cached.events;
  const v = normalize(version);
  let affected = false;
  let fixedAbove: string[] = [];
  for (const e of events) {
    const ev = key(e);
    if (e.kind === 'introduced') {
      if (ev === undefined || cmp(v, ev) >= 0) affected = true;
    } else if (e.kind === 'fixed') {
      if (cmp(v, ev!) >= 0) affected = false;
    } else if (e.kind === 'last_affected') {
      if (cmp(v, ev!) > 0) affected = false;
    }
  }
  for (const e of events) {
    if (e.kind === 'limit' && e.v !== '*' && cmp(v, normalize(e.v)) >= 0) affected = false;
  }
  // The nearest fix above the installed version (later fixes belong to other branches).
  if (affected) {
    const next = events.find((e) => e.kind === 'fixed' && cmp(normalize(e.v), v) > 0);
    if (next) fixedAbove = [next.v];
  }
  return { affected, fixed: fixedAbove };
}

/**
 * Evaluates one `affected` entry: any ECOSYSTEM/SEMVER range containing the version, or the version
 * listed in `versions`. `cmpFor` returns the comparator for a range type (undefined: unsupported).
 */
export function evaluateAffected(
  version: string,
  a: OsvAffected,
  cmpFor: (rangeType: string) => { cmp: Compare; normalize?: (v: string) => string } | undefined,
): AffectedResult {
  const res: AffectedResult = { affected: false, fixed: [], invalid: [] };
  const usable = (a.ranges ?? []).filter((r) => r.type !== 'GIT' && cmpFor(r.type));
  // Explicit versions: exact text always; equality under the scheme ("1.0" == "1.0.0" in PEP 440)
  // only when there is no range to decide by, as comparing against long lists is costly and the
  // lists are generated from the ranges anyway.
  if (a.versions?.includes(version)) res.affected = true;
  else if (a.versions?.length && !usable.length) {
    const eco = cmpFor('ECOSYSTEM');
    if (eco) {
      for (const listed of a.versions) {
        try {
          if (eco.cmp((eco.normalize ?? id)(listed), (eco.normalize ?? id)(version)) === 0) {
            res.affected = true;
            break;
          }
        } catch {
          // an unparsable listed version cannot equal a valid installed one
        }
      }
    }
  }
  for (const r of usable) {
    const c = cmpFor(r.type)!;
    try {
      const { affected, fixed } = inRange(version, r, c.cmp, c.normalize);
      if (affected) {
        res.affected = true;
        res.fixed.push(...fixed);
      }
    } catch {
      res.invalid.push(version);
    }
  }
  return res;
}

function id(v: string): string {
  return v;
}
