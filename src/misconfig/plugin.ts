/**
 * The `misconfig` scanner of `bulwark scan image|fs|rootfs` (the plug-in shape of
 * src/report/scanner.ts): Dockerfiles, compose files and Kubernetes manifests met in the single
 * pass over the artifact, plus the image configuration. Option: `policy` (string or string[]),
 * extra check directories as for `scan config --policy`.
 */
import type { MisconfigFinding, ScanResult } from '../core/findings.js';
import type { Scanner } from '../report/scanner.js';
import { CheckSet, loadChecks } from '../policy/index.js';
import { misconfigAnalyzer, scanImageConfig } from './scan.js';

const ANALYZER = 'misconfig';

export const scanner: Scanner = (() => {
  // Checks are compiled once per process: analyzers() runs before the pass, results() after it.
  let set: CheckSet | undefined;
  const checksFor = (options: Record<string, unknown>) => {
    if (!set) {
      const p = options.policy;
      const extra = typeof p === 'string' ? [p] : Array.isArray(p) ? (p as string[]) : [];
      set = new CheckSet(loadChecks({ extra }));
    }
    return set;
  };
  return {
    name: 'misconfig',
    analyzers: (options) => [misconfigAnalyzer(checksFor(options))],
    results(ctx) {
      const a = ctx.analysis;
      if (!a) return [];
      const out: ScanResult[] = [];
      const config = a.artifact.config;
      if (config && a.artifact.kind === 'image') {
        const r = scanImageConfig(config, a.artifact.name, checksFor(ctx.options));
        for (const w of r.warnings) ctx.warn(w);
        out.push({
          target: `${a.artifact.name} (image config)`,
          class: 'config',
          type: 'image-config',
          findings: r.findings,
        });
      }
      const records = [...(a.results.get(ANALYZER) ?? [])].sort((x, y) => x.path.localeCompare(y.path));
      for (const rec of records) {
        const findings = (rec.result as MisconfigFinding[]).map((f) =>
          rec.layer
            ? {
                ...f,
                location: {
                  ...f.location,
                  layer: rec.layer.diffId ?? rec.layer.digest,
                  layerIndex: rec.layer.index,
                },
              }
            : f,
        );
        out.push({ target: rec.path, class: 'config', type: findings[0]?.type ?? 'config', findings });
      }
      return out;
    },
  };
})();

/** The same scanner under the name the issue uses. */
export const misconfigScanner = scanner;
