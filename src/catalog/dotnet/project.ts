/**
 * MSBuild project files (*.csproj, *.fsproj, *.vbproj): `<PackageReference Include="X"
 * Version="1.2.3"/>` (or a `<Version>` child). A plain version is NuGet's minimum version, which
 * restore resolves to that exact version when it exists — the usual case; ranges, floating
 * versions ("1.*") and `$(Property)` values not defined in the same file are left out, as are
 * references whose version is set centrally (Directory.Packages.props).
 */
import { XMLParser } from 'fast-xml-parser';

export interface ProjectReference {
  name: string;
  version: string;
  privateAssets?: string;
}

const xml = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseTagValue: false,
  parseAttributeValue: false,
  processEntities: false,
  trimValues: true,
  isArray: (name) => ['ItemGroup', 'PropertyGroup', 'PackageReference'].includes(name),
});

type X = Record<string, unknown>;
const obj = (v: unknown): X => (v && typeof v === 'object' && !Array.isArray(v) ? (v as X) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

export function parseProjectFile(text: string): ProjectReference[] {
  const doc = obj(xml.parse(text));
  if (!('Project' in doc)) throw new Error('no <Project> element');
  const project = obj(doc.Project);
  const props: Record<string, string> = {};
  for (const g of arr(project.PropertyGroup)) {
    for (const [k, v] of Object.entries(obj(g))) if (!k.startsWith('@') && str(v)) props[k] = str(v)!;
  }
  const out: ProjectReference[] = [];
  for (const g of arr(project.ItemGroup)) {
    for (const ref of arr(obj(g).PackageReference)) {
      const r = obj(ref);
      const name = str(r['@Include']);
      let version = str(r['@Version']) ?? str(r.Version);
      if (!name || !version) continue;
      version = version.replace(/\$\(([^)]+)\)/g, (m, k: string) => props[k] ?? m);
      // only exact versions: no ranges, floating versions or unresolved properties
      if (!/^[0-9A-Za-z][0-9A-Za-z.+-]*$/.test(version) || version.includes('*')) continue;
      const privateAssets = str(r['@PrivateAssets']) ?? str(r.PrivateAssets);
      out.push({ name, version, ...(privateAssets ? { privateAssets } : {}) });
    }
  }
  return out;
}
