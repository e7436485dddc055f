/**
 * The secret scanner as a file analyzer for the single pass over an artifact. Scope 'all-layers':
 * every version of every file in every layer is scanned, so a secret a later layer deleted is still
 * reported, with the layer that holds it.
 */
import type { AnalysisRecord, FileAnalyzer, FileEntry, ImageConfig } from '../core/analyzer.js';
import type { SecretFinding, ScanResult } from '../core/findings.js';
import type { LayerRef } from '../core/types.js';
import type { RuleSet } from './rules.js';
import { pathAllowed, scanText, type SecretMatch } from './scanner.js';

export const SECRET_ANALYZER = 'secret';
/** Files above this size are not read for secrets (logs, databases and blobs rarely hold config). */
export const DEFAULT_SECRET_MAX_BYTES = 10 * 1024 * 1024;

/** Binary, media and archive formats: never scanned as text. */
const SKIP_EXT =
  /\.(?:png|jpe?g|gif|bmp|ico|webp|tiff?|woff2?|ttf|otf|eot|pdf|mp[34]|wav|ogg|zip|gz|tgz|bz2|xz|zst|7z|rar|jar|war|ear|whl|egg|so(?:\.\d+)*|a|o|pyc|pyo|class|mo|db|sqlite3?|exe|dll|bin|deb|rpm|apk|iso|img|wasm)$/i;
/** Lock and checksum files: full of hashes, never of credentials. */
const SKIP_NAMES =
  /(?:^|\/)(?:go\.sum|package-lock\.json|npm-shrinkwrap\.json|yarn\.lock|pnpm-lock\.yaml|Cargo\.lock|poetry\.lock|Pipfile\.lock|uv\.lock|composer\.lock|Gemfile\.lock|packages\.lock\.json|[^/]*\.md5sums)$/;

export interface SecretAnalyzerOptions {
  maxBytes?: number;
}

function isBinary(content: Buffer): boolean {
  const n = Math.min(content.length, 8000);
  for (let i = 0; i < n; i++) if (content[i] === 0) return true;
  return false;
}

export function secretAnalyzer(
  rules: RuleSet,
  opts: SecretAnalyzerOptions = {},
): FileAnalyzer<SecretMatch[]> {
  const maxBytes = opts.maxBytes ?? DEFAULT_SECRET_MAX_BYTES;
  return {
    name: SECRET_ANALYZER,
    scope: 'all-layers',
    maxBytes,
    wants(e: FileEntry) {
      return (
        e.type === 'file' &&
        e.size > 0 &&
        e.size <= maxBytes &&
        !SKIP_EXT.test(e.path) &&
        !SKIP_NAMES.test(e.path) &&
        !pathAllowed(rules, e.path)
      );
    },
    analyze(file) {
      if (isBinary(file.content)) return undefined;
      const matches = scanText(file.content.toString('utf8'), rules, file.path);
      return matches.length ? matches : undefined;
    },
  };
}

function layerId(layer: LayerRef | undefined): Pick<SecretFinding['location'], 'layer' | 'layerIndex'> {
  if (!layer) return {};
  return { layer: layer.diffId ?? layer.digest, layerIndex: layer.index };
}

export function toSecretFinding(
  m: SecretMatch,
  location: SecretFinding['location'],
  source?: string,
): SecretFinding {
  return {
    kind: 'secret',
    id: m.ruleId,
    title: m.title,
    severity: m.severity,
    category: m.category,
    match: m.masked,
    location: { ...location, line: m.line, endLine: m.endLine },
    ...(source ? { source } : {}),
  };
}

/** One result per file version (path and layer) that holds secrets. */
export function secretResults(records: AnalysisRecord[]): ScanResult[] {
  return records.map((r) => {
    const matches = r.result as SecretMatch[];
    const loc = { path: r.path, ...layerId(r.layer) };
    return {
      target: r.path,
      class: 'secret' as const,
      findings: matches.map((m) => toSecretFinding(m, loc, r.layer ? 'layer' : undefined)),
    };
  });
}

/**
 * Secrets in the image configuration: environment variables and the commands in the build history
 * (a `RUN curl -u user:pass` or `ENV TOKEN=...` stays in the history even when no file keeps it).
 */
export function scanImageConfig(
  config: ImageConfig | undefined,
  layers: LayerRef[],
  rules: RuleSet,
): ScanResult[] {
  if (!config) return [];
  const findings: SecretFinding[] = [];
  (config.config?.Env ?? []).forEach((env, i) => {
    for (const m of scanText(env, rules, 'image-config')) {
      findings.push(
        toSecretFinding(m, { path: 'image-config', fieldPath: `config.Env[${i}]` }, 'image-config:env'),
      );
    }
  });
  // history entries that created a layer map, in order, to the layers
  let layerIndex = 0;
  (config.history ?? []).forEach((h, i) => {
    const layer = h.empty_layer ? undefined : layers[layerIndex++];
    if (!h.created_by) return;
    for (const m of scanText(h.created_by, rules, 'image-config')) {
      findings.push(
        toSecretFinding(
          m,
          { path: 'image-config', fieldPath: `history[${i}].created_by`, ...layerId(layer) },
          'image-config:history',
        ),
      );
    }
  });
  return findings.length ? [{ target: 'image config', class: 'secret', findings }] : [];
}
