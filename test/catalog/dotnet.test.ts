import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dotnetCataloger } from '../../src/catalog/dotnet/index.js';
import { runCataloger } from '../helpers/catalog.js';
import { SHARED } from '../helpers/shared.js';
import { syftExpectedPurls } from '../helpers/syft.js';

const SYFT = `${SHARED}/corpora/syft`;
const DOTNET = `${SYFT}/syft/pkg/cataloger/dotnet/testdata`;

const syftExpected = syftExpectedPurls;

test('deps.json: packages and projects equal syft expectations, with dependencies and sha512', async () => {
  const { packages, warnings } = await runCataloger(dotnetCataloger, {
    '/app/TestLibrary.deps.json': readFileSync(`${DOTNET}/dir-example-1/TestLibrary.deps.json`),
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(packages.map((p) => p.purl).sort(), syftExpected('TestParseDotnetDeps'));
  const root = packages.find((p) => p.name === 'TestLibrary')!;
  assert.equal(root.metadata?.type, 'project');
  assert.deepEqual(root.dependsOn?.map((d) => `${d.name}@${d.version}`).sort(), [
    'Microsoft.Extensions.DependencyInjection@6.0.0',
    'Microsoft.Extensions.Logging@6.0.0',
    'Newtonsoft.Json@13.0.1',
    'Serilog.Sinks.Console@4.0.1',
    'Serilog@2.10.0',
    'TestCommon@1.0.0',
  ]);
  const nj = packages.find((p) => p.name === 'Newtonsoft.Json')!;
  assert.equal(nj.metadata?.type, 'package');
  assert.match(String(nj.metadata?.sha512), /^sha512-ppPFpBcvxdsfU/);
  assert.equal(nj.ecosystem, 'NuGet');
  assert.equal(nj.foundBy, 'dotnet-deps');
});

test('deps.json: reference assemblies are not packages', async () => {
  const { packages } = await runCataloger(dotnetCataloger, {
    '/app/MyApp.deps.json': readFileSync(`${DOTNET}/deps-with-referenceassembly/MyApp.deps.json`),
  });
  assert.deepEqual(packages.map((p) => p.purl).sort(), [
    'pkg:nuget/MyApp@1.0.0',
    'pkg:nuget/Newtonsoft.Json@13.0.3',
  ]);
});

test('packages.lock.json: one package per name+version across target frameworks, equal to syft', async () => {
  const { packages, warnings } = await runCataloger(dotnetCataloger, {
    '/src/packages.lock.json': readFileSync(`${DOTNET}/packages.lock.json`),
  });
  assert.deepEqual(warnings, []);
  assert.deepEqual(packages.map((p) => p.purl).sort(), syftExpected('TestParseDotnetPackagesLock'));
  const boot = packages.find((p) => p.name === 'bootstrap')!;
  assert.deepEqual(boot.metadata?.targetFrameworks, ['net8.0', '.netcore2.0']);
  // a dependency range resolves to the version locked for the same framework
  const opts = packages.find((p) => p.name === 'Microsoft.Extensions.Options')!;
  assert.deepEqual(opts.dependsOn, [
    { name: 'Microsoft.Extensions.DependencyInjection.Abstractions', version: '9.0.0' },
    { name: 'Microsoft.Extensions.Primitives', version: '9.0.0' },
  ]);
  assert.equal(packages.find((p) => p.name === 'AutoMapper')!.metadata?.type, 'Direct');
  assert.equal(opts.metadata?.type, 'Transitive');
});

test('packages.lock.json: Project references (no resolved version) are skipped; BOM and bad JSON handled', async () => {
  const lock = {
    version: 2,
    dependencies: {
      'net8.0': {
        Serilog: { type: 'CentralTransitive', requested: '[3.1.1, )', resolved: '3.1.1', contentHash: 'abc' },
        'my.lib': { type: 'Project', dependencies: { Serilog: '[3.1.1, )' } },
      },
    },
  };
  const { packages, warnings } = await runCataloger(dotnetCataloger, {
    '/a/packages.lock.json': '\uFEFF' + JSON.stringify(lock),
    '/b/app.deps.json': '{"targets": ',
  });
  assert.deepEqual(
    packages.map((p) => p.purl),
    ['pkg:nuget/Serilog@3.1.1'],
  );
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /^\/b\/app\.deps\.json: cannot parse deps\.json/);
});

test("project files: PackageReferences equal the Direct entries NuGet locked for them (syft's apps)", async () => {
  let compared = 0;
  for (const app of readdirSync(DOTNET)) {
    const src = `${DOTNET}/${app}/src`;
    if (!existsSync(`${src}/packages.lock.json`)) continue;
    const proj = readdirSync(src).find((n) => n.endsWith('.csproj'));
    if (!proj) continue;
    const { packages, warnings } = await runCataloger(dotnetCataloger, {
      [`/src/${proj}`]: readFileSync(`${src}/${proj}`),
      '/src/packages.lock.json': readFileSync(`${src}/packages.lock.json`),
    });
    assert.deepEqual(warnings, []);
    const fromProject = packages.filter((p) => p.foundBy === 'dotnet-project').map((p) => p.purl);
    const direct = packages
      .filter((p) => p.foundBy === 'dotnet-packages-lock' && p.metadata?.type === 'Direct')
      .map((p) => p.purl);
    assert.ok(fromProject.length > 0, app);
    assert.deepEqual(fromProject.sort(), direct.sort(), app);
    compared++;
  }
  assert.ok(compared >= 5, `only ${compared} apps compared`);
});

test('project files: PrivateAssets, $(Property) versions, <Version> children; ranges and floats left out', async () => {
  const csproj = `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><TargetFramework>net8.0</TargetFramework><SerilogVersion>3.1.1</SerilogVersion></PropertyGroup>
  <ItemGroup>
    <PackageReference Include="Serilog" Version="$(SerilogVersion)" />
    <PackageReference Include="Polly"><Version>8.2.0</Version></PackageReference>
    <PackageReference Include="StyleCop.Analyzers" Version="1.2.0-beta.435" PrivateAssets="All" />
    <PackageReference Include="Ranged" Version="[1.0,2.0)" />
    <PackageReference Include="Floating" Version="6.*" />
    <PackageReference Include="Undefined" Version="$(Nope)" />
    <PackageReference Include="Central" />
  </ItemGroup>
</Project>`;
  const { packages, warnings } = await runCataloger(dotnetCataloger, {
    '/src/app.csproj': csproj,
    '/src/broken.fsproj': '<Project><ItemGroup>',
    '/src/other.vbproj': '<NotAProject/>',
  });
  assert.deepEqual(
    packages.map((p) => p.purl),
    ['pkg:nuget/Serilog@3.1.1', 'pkg:nuget/Polly@8.2.0', 'pkg:nuget/StyleCop.Analyzers@1.2.0-beta.435'],
  );
  assert.equal(packages[2]!.metadata?.privateAssets, 'All');
  assert.equal(warnings.length, 1, warnings.join('\n'));
  assert.match(warnings[0]!, /^\/src\/other\.vbproj: cannot parse project file: no <Project> element/);
});
