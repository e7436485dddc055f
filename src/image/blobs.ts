/** Small JSON blobs (manifests, configs, indexes) are read whole, with a size cap. */
import { BulwarkError } from '../core/errors.js';

export const MAX_JSON_BLOB = 8 * 1024 * 1024;

export function checkJsonSize(size: number, what: string): void {
  if (size > MAX_JSON_BLOB)
    throw new BulwarkError(
      'LIMIT',
      `${what}: ${size} bytes is more than the ${MAX_JSON_BLOB}-byte limit for JSON documents`,
    );
}
