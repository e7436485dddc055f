/**
 * The list of cataloger plugins. Adding an ecosystem is adding a folder under src/catalog/ and one
 * line here (keep one import and one list entry per line, alphabetical within OS / language).
 */
import type { Cataloger } from './types.js';
// --- imports (one per line) ---
import { dotnetCataloger } from './dotnet/index.js';
import { javaCataloger } from './java/index.js';
import { phpCataloger } from './php/index.js';
import { rubyCataloger } from './ruby/index.js';
import { goCataloger } from './go/index.js';
import { npmCataloger } from './npm/index.js';
import { pythonCataloger } from './python/index.js';
import { rustCataloger } from './rust/index.js';
import { apkCataloger } from './apk/index.js';
import { dpkgCataloger } from './dpkg/index.js';
import { rpmCataloger } from './rpm/index.js';

export const CATALOGERS: Cataloger[] = [
  // --- os ---
  apkCataloger as Cataloger,
  dpkgCataloger as Cataloger,
  rpmCataloger as Cataloger,
  // --- languages ---
  dotnetCataloger as Cataloger,
  javaCataloger as Cataloger,
  phpCataloger as Cataloger,
  rubyCataloger as Cataloger,
  goCataloger as Cataloger,
  npmCataloger as Cataloger,
  pythonCataloger as Cataloger,
  rustCataloger as Cataloger,
];
