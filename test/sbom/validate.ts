/**
 * Validators built from the official schemas: CycloneDX 1.6 (shipped by @cyclonedx/cyclonedx-library)
 * and SPDX 2.3 (test/sbom/schemas/spdx-schema.json, see the README there).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule as unknown as (ajv: Ajv | Ajv2019) => void;
const require = createRequire(import.meta.url);
const cdxDir = join(dirname(require.resolve('@cyclonedx/cyclonedx-library/package.json')), 'res', 'schema');
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;

let cdx: ValidateFunction | undefined;
let spdx: ValidateFunction | undefined;

function fmt(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 10)
    .map((e) => `${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`)
    .join('\n');
}

/** Throws with the schema errors if the document is not valid CycloneDX 1.6. */
export function assertValidCycloneDX(doc: unknown): void {
  if (!cdx) {
    const ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    // draft-2019 formats the CycloneDX schema names (ajv-formats covers the draft-07 ones); not checked
    ajv.addFormat('iri-reference', true);
    ajv.addFormat('idn-email', true);
    // The library's copies refer to each other by their SNAPSHOT file names.
    for (const f of ['spdx.SNAPSHOT.schema.json', 'jsf-0.82.SNAPSHOT.schema.json']) {
      const { $id: _id, ...schema } = json(join(cdxDir, f));
      ajv.addSchema(schema, `http://cyclonedx.org/schema/${f}`);
    }
    cdx = ajv.compile(json(join(cdxDir, 'bom-1.6.SNAPSHOT.schema.json')));
  }
  if (!cdx(doc)) throw new Error(`CycloneDX 1.6 schema violations:\n${fmt(cdx.errors)}`);
}

/** Throws with the schema errors if the document is not valid SPDX 2.3 JSON. */
export function assertValidSPDX(doc: unknown): void {
  if (!spdx) {
    const ajv = new Ajv2019({ strict: false, allErrors: true });
    addFormats(ajv);
    spdx = ajv.compile(json(new URL('./schemas/spdx-schema.json', import.meta.url).pathname));
  }
  if (!spdx(doc)) throw new Error(`SPDX 2.3 schema violations:\n${fmt(spdx.errors)}`);
}
