/**
 * The single-pass analysis contract. An artifact (image, root filesystem, directory) is walked once;
 * every analyzer that `wants` a file gets its content in that same pass. Image layers are read once,
 * bottom to top, as streams.
 *
 * - scope 'final': results are kept only for files present in the final filesystem (after whiteouts
 *   and overwrites by later layers). Catalogers use this.
 * - scope 'all-layers': results are kept for every version of every file in every layer, even if a
 *   later layer deleted it (secret scanning: a secret removed later is still in the image).
 */
import type { LayerRef } from './types.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'hardlink' | 'other';

export interface FileEntry {
  /** Absolute, normalized path inside the artifact: "/var/lib/dpkg/status". Never contains "..". */
  path: string;
  type: EntryType;
  size: number;
  mode: number;
  /** Symlink target as written (may be relative), or the hardlink's target path (absolute). */
  linkTarget?: string;
  /** The layer that wrote this version of the file (images only). */
  layer?: LayerRef;
}

export interface AnalyzerFile extends FileEntry {
  /** Whole content (at most the analyzer's maxBytes; larger files are skipped with a warning). */
  content: Buffer;
}

export interface AnalyzeContext {
  warn(msg: string): void;
}

export interface FileAnalyzer<R = unknown> {
  /** Unique name; results are grouped under it. */
  name: string;
  scope: 'final' | 'all-layers';
  /** Cheap test on path/size/mode, called for every regular file. Must not do I/O. */
  wants(entry: FileEntry): boolean;
  /** Content cap in bytes; bigger wanted files are skipped with a warning. Default: DEFAULT_MAX_BYTES. */
  maxBytes?: number;
  analyze(file: AnalyzerFile, ctx: AnalyzeContext): R | undefined | Promise<R | undefined>;
}

export const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export interface AnalysisRecord<R = unknown> {
  path: string;
  layer?: LayerRef;
  result: R;
}

/** The final filesystem as an index of entries (no content). */
export interface FileIndex {
  /** Entry at exactly this path (no symlink following), after whiteouts. */
  get(path: string): FileEntry | undefined;
  /**
   * Follows symlinks (every component) inside the artifact root only; returns the resolved absolute
   * path, or undefined if it dangles, loops, or would leave the root.
   */
  resolve(path: string): string | undefined;
  /** All paths, in no particular order. */
  paths(): Iterable<string>;
  size: number;
}

/** OCI image configuration (the parts Bulwark uses). Field names as in the OCI image spec. */
export interface ImageConfig {
  architecture?: string;
  os?: string;
  variant?: string;
  created?: string;
  config?: {
    User?: string;
    Env?: string[];
    Cmd?: string[];
    Entrypoint?: string[];
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    Labels?: Record<string, string>;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number };
    StopSignal?: string;
  };
  rootfs?: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; empty_layer?: boolean; comment?: string }[];
}

/** What was analyzed. */
export interface ArtifactInfo {
  kind: 'image' | 'rootfs' | 'fs';
  /** What the user typed: "oci:/tmp/img:latest", "registry.local:5000/app:1.0", "dir:/srv". */
  name: string;
  /** Image manifest digest, when known. */
  digest?: string;
  /** Image config digest (image id), when known. */
  imageId?: string;
  repoTags?: string[];
  repoDigests?: string[];
  config?: ImageConfig;
  layers: LayerRef[];
}

export interface AnalysisResult {
  artifact: ArtifactInfo;
  files: FileIndex;
  /** Records per analyzer name. */
  results: Map<string, AnalysisRecord[]>;
  warnings: string[];
}
