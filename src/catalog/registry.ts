/**
 * The list of cataloger plugins. Adding an ecosystem is adding a folder under src/catalog/ and one
 * line here (keep one import and one list entry per line, alphabetical within OS / language).
 */
import type { Cataloger } from './types.js';
// --- imports (one per line) ---

export const CATALOGERS: Cataloger[] = [
  // --- os ---
  // --- languages ---
];
