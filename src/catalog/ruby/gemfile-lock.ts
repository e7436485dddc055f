/**
 * Gemfile.lock (Bundler): indentation-defined sections. GEM, GIT, PATH and PLUGIN SOURCE sections
 * list resolved gems under "  specs:" at 4 spaces as "name (version[-platform])", each followed by
 * its dependencies at 6 spaces. DEPENDENCIES lists the Gemfile's direct dependencies ("name!" when
 * pinned to a git/path source); BUNDLED WITH the Bundler version.
 */

export interface LockedGem {
  name: string;
  version: string;
  platform?: string;
  dependencies: string[];
  source: { type: 'GEM' | 'GIT' | 'PATH' | 'PLUGIN SOURCE'; remote?: string; revision?: string };
}

export interface GemfileLock {
  gems: LockedGem[];
  direct: string[];
  bundledWith?: string;
}

const SOURCE_SECTIONS = new Set(['GEM', 'GIT', 'PATH', 'PLUGIN SOURCE']);

export function parseGemfileLock(text: string): GemfileLock {
  const gems: LockedGem[] = [];
  const direct: string[] = [];
  let bundledWith: string | undefined;
  let section = '';
  let source: LockedGem['source'] | undefined;
  let inSpecs = false;
  let current: LockedGem | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (raw.trim() === '') continue;
    const indent = raw.length - raw.trimStart().length;
    const line = raw.trim();
    if (indent === 0) {
      section = line;
      source = SOURCE_SECTIONS.has(line) ? { type: line as LockedGem['source']['type'] } : undefined;
      inSpecs = false;
      current = undefined;
      continue;
    }
    if (source) {
      if (indent === 2) {
        inSpecs = line === 'specs:';
        const kv = /^(remote|revision):\s*(.*)$/.exec(line);
        if (kv) source[kv[1] as 'remote' | 'revision'] = kv[2];
        continue;
      }
      if (!inSpecs) continue;
      const m = /^(\S+) \(([^)]+)\)$/.exec(line) ?? /^(\S+)$/.exec(line);
      if (indent === 4 && m && m[2]) {
        // platform-specific gems: "nokogiri (1.13.6-x86_64-linux)"; gem versions never contain "-"
        const [version, ...plat] = m[2].split('-');
        current = { name: m[1]!, version: version!, dependencies: [], source: { ...source } };
        if (plat.length) current.platform = plat.join('-');
        gems.push(current);
      } else if (indent === 6 && m && current && !current.dependencies.includes(m[1]!)) {
        current.dependencies.push(m[1]!);
      }
      continue;
    }
    if (section === 'DEPENDENCIES' && indent === 2) {
      const name = /^([^\s!(]+)/.exec(line)?.[1];
      if (name) direct.push(name);
    } else if (section === 'BUNDLED WITH' && indent > 0) {
      bundledWith = line;
    }
  }
  return { gems, direct, ...(bundledWith ? { bundledWith } : {}) };
}
