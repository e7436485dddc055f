/**
 * The contract every version scheme implements (one module per scheme, registered in index.ts).
 * Renovate's `lib/modules/versioning/*` is the model for the shape.
 */
export interface VersionScheme {
  /** Short stable name: "dpkg", "apk", "rpm", "npm", "go", "cargo", "pep440", ... */
  name: string;
  /** True when `v` is a version this scheme can order. */
  isValid(v: string): boolean;
  /**
   * Orders two versions: negative when a < b, 0 when equal in precedence, positive when a > b.
   * Throws BulwarkError('PARSE') naming the version and the scheme when either is invalid.
   */
  compare(a: string, b: string): number;
}
