/**
 * Python versions per PEP 440 (epochs, pre/post/dev releases, local versions, normalisation:
 * "2.2" == "2.2.0", "1.0-beta-3" == "1.0b3", "1.0-r1" == "1.0.post1"), using
 * @renovatebot/pep440, which implements the PyPA `packaging` ordering.
 */
import pep440lib from '@renovatebot/pep440';
import { invalidVersion } from './errors.js';
import type { VersionScheme } from './types.js';

function check(v: string): string {
  const t = v.trim();
  if (pep440lib.valid(t) === null) throw invalidVersion('pep440', v);
  return t;
}

export const pep440: VersionScheme = {
  name: 'pep440',
  isValid: (v) => pep440lib.valid(v.trim()) !== null,
  compare: (a, b) => pep440lib.compare(check(a), check(b)),
};
