/**
 * Runs analyzers over an image once its source has resolved manifest, config and layer streams.
 */
import type { AnalysisResult, ArtifactInfo, FileAnalyzer } from '../core/analyzer.js';
import type { Logger } from '../core/log.js';
import { Collector, Warnings } from './collector.js';
import { walkLayers, type LayerSource, type WalkOptions } from './layers.js';
import { FileTree } from './tree.js';

export interface ImagePlan {
  artifact: ArtifactInfo;
  /** One per artifact.layers entry, same order and same LayerRef objects. */
  layers: LayerSource[];
}

export interface LimitOptions {
  /** Cap on uncompressed bytes per layer (default 16 GiB). */
  maxLayerBytes?: number;
  /** Cap on entries in the whole artifact (default 5 million). */
  maxEntries?: number;
}

export async function analyzePlan(
  plan: ImagePlan,
  analyzers: FileAnalyzer[],
  opts: LimitOptions & { logger?: Logger } = {},
): Promise<AnalysisResult> {
  const warnings = new Warnings();
  const tree = new FileTree();
  const collector = new Collector(analyzers, warnings);
  const walk: WalkOptions = {
    maxLayerBytes: opts.maxLayerBytes,
    maxEntries: opts.maxEntries,
    logger: opts.logger,
  };
  await walkLayers(plan.layers, tree, collector, warnings, walk);
  return { artifact: plan.artifact, files: tree, results: collector.finish(tree), warnings: warnings.done() };
}
