/** Locations of catalog records: path plus the layer that last wrote the file. */
import type { AnalysisRecord, FileEntry } from '../core/analyzer.js';
import type { LayerRef, Location } from '../core/types.js';

export function locationFrom(path: string, layer: LayerRef | undefined): Location {
  const loc: Location = { path };
  const id = layer?.diffId ?? layer?.digest;
  if (id) loc.layer = id;
  if (layer) loc.layerIndex = layer.index;
  return loc;
}

export function recordLocation(r: AnalysisRecord | FileEntry): Location {
  return locationFrom(r.path, r.layer);
}
