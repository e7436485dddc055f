/**
 * Feeds files to analyzers during the single pass and keeps their records.
 *
 * - wants() is asked for every regular file (and hard link); the content is read once, up to the
 *   largest maxBytes among the analyzers that want it, and every wanting analyzer gets the same
 *   buffer. An analyzer whose maxBytes is below the file size skips it with a warning.
 * - Hard links: the tar stream carries the content only once, under the link's target. An analyzer
 *   that wants the link gets the record it produced for the target (same result, the link's path
 *   and layer). If it never read the target (it did not want that name), a warning says so.
 * - At the end, records of 'final' analyzers are kept only if their file version is still in the
 *   final tree (see FileTree sequence numbers); 'all-layers' analyzers keep everything.
 */
import {
  DEFAULT_MAX_BYTES,
  type AnalysisRecord,
  type AnalyzeContext,
  type FileAnalyzer,
  type FileEntry,
} from '../core/analyzer.js';
import type { LayerRef } from '../core/types.js';
import type { FileTree } from './tree.js';

interface StoredRecord {
  record: AnalysisRecord;
  seq: number;
}

/** Warnings with a cap, so that a hostile artifact cannot grow them without bound. */
export class Warnings {
  readonly list: string[] = [];
  private dropped = 0;
  constructor(
    private readonly max = 1000,
    private readonly onWarn?: (msg: string) => void,
  ) {}
  add(msg: string): void {
    if (this.list.length < this.max) {
      this.list.push(msg);
      this.onWarn?.(msg);
    } else this.dropped++;
  }
  done(): string[] {
    return this.dropped > 0 ? [...this.list, `${this.dropped} more warnings not shown`] : this.list;
  }
}

export function describeLocation(path: string, layer?: LayerRef): string {
  if (!layer) return path;
  const id = layer.digest ?? layer.diffId;
  return `${path} (layer ${layer.index}${id ? ` ${id.slice(0, 19)}` : ''})`;
}

export class Collector {
  private readonly records = new Map<string, StoredRecord[]>();
  /** path → the version analyzed there and what each analyzer returned (for hard links). */
  private readonly analyzed = new Map<string, { seq: number; results: Map<string, unknown> }>();

  constructor(
    private readonly analyzers: FileAnalyzer[],
    private readonly warnings: Warnings,
  ) {
    for (const a of analyzers) this.records.set(a.name, []);
  }

  get hasAnalyzers(): boolean {
    return this.analyzers.length > 0;
  }

  wanting(entry: FileEntry): FileAnalyzer[] {
    const out: FileAnalyzer[] = [];
    for (const a of this.analyzers) {
      try {
        if (a.wants(entry)) out.push(a);
      } catch (e) {
        this.warnings.add(
          `analyzer ${a.name}: wants() failed on ${describeLocation(entry.path, entry.layer)}: ${(e as Error).message}`,
        );
      }
    }
    return out;
  }

  /**
   * Reads the file (through `read`, which must deliver exactly `limit` bytes at most) and runs the
   * wanting analyzers. Returns without reading when every wanting analyzer is over its cap.
   */
  async analyzeFile(
    entry: FileEntry,
    seq: number,
    wanting: FileAnalyzer[],
    read: (limit: number) => Promise<Buffer | undefined>,
  ): Promise<void> {
    const fits = wanting.filter((a) => {
      const cap = a.maxBytes ?? DEFAULT_MAX_BYTES;
      if (entry.size <= cap) return true;
      this.warnings.add(
        `skipped ${describeLocation(entry.path, entry.layer)} for ${a.name}: ${entry.size} bytes is over its ${cap}-byte limit`,
      );
      return false;
    });
    if (fits.length === 0) return;
    const limit = Math.max(...fits.map((a) => a.maxBytes ?? DEFAULT_MAX_BYTES));
    const content = await read(limit);
    if (!content) return;
    const results = new Map<string, unknown>();
    const file = { ...entry, content };
    for (const a of fits) {
      if (content.length > (a.maxBytes ?? DEFAULT_MAX_BYTES)) continue;
      const ctx: AnalyzeContext = {
        warn: (m) => this.warnings.add(`${a.name}: ${describeLocation(entry.path, entry.layer)}: ${m}`),
      };
      let result: unknown;
      try {
        result = await a.analyze(file, ctx);
      } catch (e) {
        this.warnings.add(
          `analyzer ${a.name} failed on ${describeLocation(entry.path, entry.layer)}: ${(e as Error).message}`,
        );
        continue;
      }
      results.set(a.name, result);
      if (result !== undefined) this.push(a.name, { path: entry.path, layer: entry.layer, result }, seq);
    }
    this.analyzed.set(entry.path, { seq, results });
  }

  /** A hard link at entry.path to targetPath (already in the tree, version targetSeq). */
  hardlink(entry: FileEntry, seq: number, targetPath: string, targetSeq: number): void {
    const wanting = this.wanting(entry);
    if (wanting.length === 0) return;
    const seen = this.analyzed.get(targetPath);
    const results = seen && seen.seq === targetSeq ? seen.results : undefined;
    for (const a of wanting) {
      if (!results || !results.has(a.name)) {
        this.warnings.add(
          `${a.name}: hard link ${describeLocation(entry.path, entry.layer)} -> ${targetPath}: target content was not read for this analyzer; skipped`,
        );
        continue;
      }
      const result = results.get(a.name);
      if (result !== undefined) this.push(a.name, { path: entry.path, layer: entry.layer, result }, seq);
    }
    if (results) this.analyzed.set(entry.path, { seq, results });
  }

  private push(name: string, record: AnalysisRecord, seq: number): void {
    this.records.get(name)!.push({ record, seq });
  }

  /** The records per analyzer, 'final' ones filtered against the final tree. */
  finish(tree: FileTree): Map<string, AnalysisRecord[]> {
    const out = new Map<string, AnalysisRecord[]>();
    for (const a of this.analyzers) {
      const stored = this.records.get(a.name)!;
      out.set(
        a.name,
        a.scope === 'final'
          ? stored.filter((s) => tree.seqOf(s.record.path) === s.seq).map((s) => s.record)
          : stored.map((s) => s.record),
      );
    }
    this.analyzed.clear();
    return out;
  }
}
